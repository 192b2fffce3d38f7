import { PATTERNS, validate, type Validator } from '../validation.js';
import { TARGET_SELECTIONS } from '../jobs/job-states.js';
import { checkAbortConfig, checkRolloutConfig, checkTimeoutConfig } from '../jobs/job-configs.js';
import { TagsService, type Tag } from '../tags/tags.service.js';

/**
 * OTA updates on the wire (AWS IoT control plane, iot 2015-05-28: CreateOTAUpdate, GetOTAUpdate,
 * ListOTAUpdates, DeleteOTAUpdate). Shapes and constraints are the service model's.
 */

/** OTAUpdateStatus (the SDK's enum; the DELETE_* ones are AWS's asynchronous delete, see ota.service.ts). */
export const OTA_UPDATE_STATUSES = [
  'CREATE_PENDING',
  'CREATE_IN_PROGRESS',
  'CREATE_COMPLETE',
  'CREATE_FAILED',
  'DELETE_IN_PROGRESS',
  'DELETE_FAILED',
] as const;
export type OtaUpdateStatus = (typeof OTA_UPDATE_STATUSES)[number];
/** Statuses the worker still has to move on. */
export const OTA_BUILDING: readonly OtaUpdateStatus[] = ['CREATE_PENDING', 'CREATE_IN_PROGRESS'];

export const OTA_PROTOCOLS = ['MQTT', 'HTTP'] as const;
export type OtaProtocol = (typeof OTA_PROTOCOLS)[number];

/** The job CreateOTAUpdate makes is `AFR_OTA-<otaUpdateId>` (spec 6.5). */
export const OTA_JOB_PREFIX = 'AFR_OTA-';
/** Job ids are at most 64 characters (spec 3.1), so an OTA update id that makes a job is at most 56. */
export const MAX_OTA_UPDATE_ID_FOR_JOB = 64 - OTA_JOB_PREFIX.length;

export interface S3Location {
  bucket?: string;
  key?: string;
  version?: string;
}

export interface CustomCodeSigning {
  /** A blob on the wire: base64 text of the raw signature (DER for ECDSA). */
  signature?: { inlineDocument?: string };
  certificateChain?: { certificateName?: string; inlineDocument?: string };
  hashAlgorithm?: string;
  signatureAlgorithm?: string;
}

export interface StartSigningJobParameter {
  signingProfileParameter?: { certificateArn?: string; platform?: string; certificatePathOnDevice?: string };
  signingProfileName?: string;
  destination?: { s3Destination?: { bucket?: string; prefix?: string } };
}

export interface CodeSigning {
  awsSignerJobId?: string;
  startSigningJobParameter?: StartSigningJobParameter;
  customCodeSigning?: CustomCodeSigning;
}

export interface OtaUpdateFile {
  fileName?: string;
  fileType?: number;
  fileVersion?: string;
  fileLocation?: { stream?: { streamId?: string; fileId?: number }; s3Location?: S3Location };
  codeSigning?: CodeSigning;
  attributes?: Record<string, string>;
}

export interface AwsJobConfigs {
  awsJobExecutionsRolloutConfig?: {
    maximumPerMinute?: number;
    exponentialRate?: {
      baseRatePerMinute: number;
      incrementFactor: number;
      rateIncreaseCriteria: { numberOfNotifiedThings?: number; numberOfSucceededThings?: number };
    };
  };
  awsJobPresignedUrlConfig?: { expiresInSec?: number };
  awsJobAbortConfig?: {
    abortCriteriaList: {
      failureType: 'FAILED' | 'REJECTED' | 'TIMED_OUT' | 'ALL';
      action: 'CANCEL';
      thresholdPercentage: number;
      minNumberOfExecutedThings: number;
    }[];
  };
  awsJobTimeoutConfig?: { inProgressTimeoutInMinutes?: number };
}

export interface CreateOtaUpdateInput extends AwsJobConfigs {
  otaUpdateId: string;
  description?: string;
  targets?: string[];
  protocols?: OtaProtocol[];
  targetSelection?: (typeof TARGET_SELECTIONS)[number];
  files?: OtaUpdateFile[];
  roleArn?: string;
  additionalParameters?: Record<string, string>;
  tags?: Tag[];
}

export const OTA_ID_RULE = { min: 1, max: 128, pattern: PATTERNS.jobId };
/** AwsJobPresignedUrlConfig.expiresInSec: 60-3600, default 1800 (API_AwsJobPresignedUrlConfig). */
export const OTA_PRESIGN_DEFAULT_SEC = 1800;
const ATTRIBUTE_VALUE = { max: 4096 };

export function checkOtaUpdateId(v: Validator, id: unknown): void {
  if (v.required('otaUpdateId', id)) v.string('otaUpdateId', id, OTA_ID_RULE);
}

/** Everything CreateOTAUpdate refuses synchronously (model constraints; the rest the worker finds). */
export function checkCreateOtaUpdate(input: CreateOtaUpdateInput): void {
  validate((v) => {
    checkOtaUpdateId(v, input.otaUpdateId);
    v.string('description', input.description, { max: 2028, pattern: PATTERNS.noControl });
    if (v.required('targets', input.targets) && v.list('targets', input.targets, { min: 1 })) {
      input.targets.forEach((t, i) => v.string(`targets.${i + 1}.member`, t, { min: 1 }));
    }
    if (v.list('protocols', input.protocols, { min: 1, max: 2 })) {
      input.protocols.forEach((p, i) => v.string(`protocols.${i + 1}.member`, p, { enum: OTA_PROTOCOLS }));
    }
    v.string('targetSelection', input.targetSelection, { enum: TARGET_SELECTIONS });
    if (v.required('roleArn', input.roleArn)) v.string('roleArn', input.roleArn, { min: 20, max: 2048 });
    v.stringMap('additionalParameters', input.additionalParameters, { value: ATTRIBUTE_VALUE });
    if (v.object('awsJobExecutionsRolloutConfig', input.awsJobExecutionsRolloutConfig)) {
      checkRolloutConfig(v, 'awsJobExecutionsRolloutConfig', input.awsJobExecutionsRolloutConfig);
    }
    if (v.object('awsJobPresignedUrlConfig', input.awsJobPresignedUrlConfig)) {
      const e = input.awsJobPresignedUrlConfig.expiresInSec;
      v.number('awsJobPresignedUrlConfig.expiresInSec', e, { min: 60, max: 3600, integer: true });
    }
    if (v.object('awsJobAbortConfig', input.awsJobAbortConfig)) {
      const list = input.awsJobAbortConfig.abortCriteriaList;
      if (v.required('awsJobAbortConfig.abortCriteriaList', list)) {
        checkAbortConfig(v, 'awsJobAbortConfig', { criteriaList: list });
      }
    }
    if (v.object('awsJobTimeoutConfig', input.awsJobTimeoutConfig)) {
      checkTimeoutConfig(v, 'awsJobTimeoutConfig', input.awsJobTimeoutConfig);
    }
    if (v.required('files', input.files) && v.list('files', input.files, { min: 1, max: 50 })) {
      input.files.forEach((f, i) => checkFile(v, `files.${i + 1}.member`, f));
    }
  });
  if (input.tags !== undefined) TagsService.checkTags(input.tags);
}

function checkFile(v: Validator, f: string, file: OtaUpdateFile): void {
  if (!v.object(f, file)) return;
  v.string(`${f}.fileName`, file.fileName);
  v.number(`${f}.fileType`, file.fileType, { min: 0, max: 255, integer: true });
  v.string(`${f}.fileVersion`, file.fileVersion);
  v.stringMap(`${f}.attributes`, file.attributes, { value: ATTRIBUTE_VALUE });
  const loc = file.fileLocation;
  if (v.object(`${f}.fileLocation`, loc)) {
    if (v.object(`${f}.fileLocation.stream`, loc.stream)) {
      const s = loc.stream;
      v.string(`${f}.fileLocation.stream.streamId`, s.streamId, OTA_ID_RULE);
      v.number(`${f}.fileLocation.stream.fileId`, s.fileId, { min: 0, max: 255, integer: true });
    }
    if (v.object(`${f}.fileLocation.s3Location`, loc.s3Location)) {
      const s = loc.s3Location;
      v.string(`${f}.fileLocation.s3Location.bucket`, s.bucket, { min: 1 });
      v.string(`${f}.fileLocation.s3Location.key`, s.key, { min: 1 });
      v.string(`${f}.fileLocation.s3Location.version`, s.version);
    }
  }
  const cs = file.codeSigning;
  if (v.object(`${f}.codeSigning`, cs)) {
    v.string(`${f}.codeSigning.awsSignerJobId`, cs.awsSignerJobId);
    const start = cs.startSigningJobParameter;
    if (v.object(`${f}.codeSigning.startSigningJobParameter`, start)) {
      const p = `${f}.codeSigning.startSigningJobParameter`;
      v.string(`${p}.signingProfileName`, start.signingProfileName);
      if (v.object(`${p}.signingProfileParameter`, start.signingProfileParameter)) {
        const q = start.signingProfileParameter;
        v.string(`${p}.signingProfileParameter.certificateArn`, q.certificateArn);
        v.string(`${p}.signingProfileParameter.platform`, q.platform);
        v.string(`${p}.signingProfileParameter.certificatePathOnDevice`, q.certificatePathOnDevice);
      }
      if (
        v.object(`${p}.destination`, start.destination) &&
        v.object(`${p}.destination.s3Destination`, start.destination.s3Destination)
      ) {
        v.string(`${p}.destination.s3Destination.bucket`, start.destination.s3Destination.bucket, { min: 1 });
        v.string(`${p}.destination.s3Destination.prefix`, start.destination.s3Destination.prefix);
      }
    }
    const custom = cs.customCodeSigning;
    if (v.object(`${f}.codeSigning.customCodeSigning`, custom)) {
      const p = `${f}.codeSigning.customCodeSigning`;
      if (v.object(`${p}.signature`, custom.signature))
        v.string(`${p}.signature.inlineDocument`, custom.signature.inlineDocument);
      if (v.object(`${p}.certificateChain`, custom.certificateChain)) {
        v.string(`${p}.certificateChain.certificateName`, custom.certificateChain.certificateName);
        v.string(`${p}.certificateChain.inlineDocument`, custom.certificateChain.inlineDocument);
      }
      v.string(`${p}.hashAlgorithm`, custom.hashAlgorithm);
      v.string(`${p}.signatureAlgorithm`, custom.signatureAlgorithm);
    }
  }
}
