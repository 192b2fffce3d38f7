import { PATTERNS, validate, type Validator } from '../validation.js';
import { TagsService, type Tag } from '../tags/tags.service.js';

/**
 * Limits of the AWS IoT model (botocore iot 2015-05-28, shapes StreamId, StreamDescription,
 * StreamFiles, FileId, S3Location, RoleArn, StreamVersion, MaxResults).
 */
export const STREAM_LIMITS = {
  streamIdMax: 128,
  descriptionMax: 2028,
  minFiles: 1,
  maxFiles: 50,
  fileIdMin: 0,
  fileIdMax: 255,
  roleArnMin: 20,
  roleArnMax: 2048,
  /** StreamVersion is 0-65535; UpdateStream past it is refused. */
  versionMax: 65535,
  maxResults: 250,
} as const;

/**
 * Which streams a device may read over MQTT (--device-streams): `jobs`, those a pending job
 * execution of its thing names; `any`, every stream (AWS's behaviour under a broad IoT policy).
 */
export const DEVICE_STREAM_ACCESS = ['jobs', 'any'] as const;
export type DeviceStreamAccess = (typeof DEVICE_STREAM_ACCESS)[number];

export const STREAM_ID_PATTERN = /^[a-zA-Z0-9_-]+$/;

export interface S3Location {
  bucket?: string;
  key?: string;
  version?: string;
}

/** AWS's StreamFile: fileId and s3Location are both optional in the model but needed here. */
export interface StreamFileInput {
  fileId?: number;
  s3Location?: S3Location;
}

/** CreateStreamRequest (AWS shape): the OTA engineer's CreateOTAUpdate passes this through. */
export interface CreateStreamInput {
  streamId: string;
  description?: string;
  files?: StreamFileInput[];
  roleArn?: string;
  tags?: Tag[];
}

export interface UpdateStreamInput {
  streamId: string;
  description?: string;
  files?: StreamFileInput[];
  roleArn?: string;
}

export interface StreamFileView {
  fileId: number;
  s3Location: { bucket: string; key: string; version?: string };
}

export function checkStreamId(v: Validator, value: unknown): void {
  if (v.required('streamId', value)) {
    v.string('streamId', value, { min: 1, max: STREAM_LIMITS.streamIdMax, pattern: STREAM_ID_PATTERN });
  }
}

function checkFiles(v: Validator, files: unknown): void {
  if (!v.list('files', files, { min: STREAM_LIMITS.minFiles, max: STREAM_LIMITS.maxFiles })) return;
  const seen = new Set<number>();
  files.forEach((file, i) => {
    const f = `files.${i + 1}.member`;
    if (!v.object(f, file)) return;
    if (v.required(`${f}.fileId`, file.fileId)) {
      const ok = v.number(`${f}.fileId`, file.fileId, {
        integer: true,
        min: STREAM_LIMITS.fileIdMin,
        max: STREAM_LIMITS.fileIdMax,
      });
      if (ok && seen.has(file.fileId as number)) v.fail(`${f}.fileId`, file.fileId, 'Member must be unique in files');
      if (ok) seen.add(file.fileId as number);
    }
    if (v.required(`${f}.s3Location`, file.s3Location) && v.object(`${f}.s3Location`, file.s3Location)) {
      const loc = file.s3Location;
      if (v.required(`${f}.s3Location.bucket`, loc.bucket)) v.string(`${f}.s3Location.bucket`, loc.bucket, { min: 1 });
      if (v.required(`${f}.s3Location.key`, loc.key)) v.string(`${f}.s3Location.key`, loc.key, { min: 1 });
      v.string(`${f}.s3Location.version`, loc.version, { min: 1 });
    }
  });
}

function checkCommon(v: Validator, input: { description?: unknown; roleArn?: unknown; files?: unknown }): void {
  v.string('description', input.description, { max: STREAM_LIMITS.descriptionMax, pattern: PATTERNS.noControl });
  v.string('roleArn', input.roleArn, { min: STREAM_LIMITS.roleArnMin, max: STREAM_LIMITS.roleArnMax });
  checkFiles(v, input.files);
}

export function checkCreateStream(input: CreateStreamInput): void {
  validate((v) => {
    checkStreamId(v, input.streamId);
    v.required('files', input.files);
    v.required('roleArn', input.roleArn);
    checkCommon(v, input);
  });
  if (input.tags !== undefined) TagsService.checkTags(input.tags);
}

export function checkUpdateStream(input: UpdateStreamInput): void {
  validate((v) => {
    checkStreamId(v, input.streamId);
    checkCommon(v, input);
  });
}

export function checkListStreams(input: { maxResults?: number; nextToken?: string; ascendingOrder?: boolean }): void {
  validate((v) => {
    v.number('maxResults', input.maxResults, { integer: true, min: 1, max: STREAM_LIMITS.maxResults });
    v.string('nextToken', input.nextToken);
    v.boolean('ascendingOrder', input.ascendingOrder);
  });
}
