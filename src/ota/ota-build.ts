import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import type { IamServices } from '../iam/iam.services.js';
import type { LoadedRole } from '../iam/role-access.js';
import { newUuid } from '../ids.js';
import type { JobsService } from '../jobs/jobs.service.js';
import type { ObjectMeta } from '../objects/objects.schemas.js';
import { s3Arn } from '../objects/s3-access.js';
import { IOT_SERVICE } from '../documents/presigned-urls.js';
import { buildOtaDocument, jobConfigsOf, otaJobId, protocolsOf, type OtaDocumentFile } from './ota-document.js';
import {
  failure,
  resolveObject,
  type FileSignature,
  type ObjectRef,
  type OtaSigner,
  type OtaStreams,
} from './ota-files.js';
import type { OtaUpdateRow } from './ota.repository.js';
import { OTA_JOB_PREFIX, type AwsJobConfigs, type OtaProtocol, type OtaUpdateFile } from './ota.schemas.js';

export interface OtaBuildDeps {
  ctx: ServiceContext;
  iam: IamServices;
  jobs: JobsService;
  objects: () => { resolve(bucket: string, key: string, versionId?: string): Promise<ObjectMeta> };
  signer: OtaSigner;
  streams: () => OtaStreams | undefined;
  /** Saves progress a retry must see (the stream id before the stream is made). */
  save: (changes: { stream_id?: string; stream_created?: number }) => Promise<void>;
}

export interface OtaBuilt {
  jobId: string;
  streamId: string | null;
  streamCreated: boolean;
  files: OtaUpdateFile[];
}

const parse = <T>(text: string | null): T | undefined => (text === null ? undefined : (JSON.parse(text) as T));

/**
 * Builds one OTA update as AWS's OTA Update Manager does: checks the role, finds every file,
 * signs it, makes the stream for MQTT delivery, then creates the job `AFR_OTA-<otaUpdateId>`
 * whose document is the afr_ota block (spec 6.5). Throws a ServiceError whose code and message
 * become the update's errorInfo. Runs outside any transaction (signing reads whole objects).
 */
export async function buildOtaUpdate(deps: OtaBuildDeps, row: OtaUpdateRow): Promise<OtaBuilt> {
  const { ctx } = deps;
  const id = row.ota_update_id;
  const otaArn = ctx.arns.iot('otaupdate', id);
  const jobId = otaJobId(id);
  const protocols = protocolsOf(parse<OtaProtocol[]>(row.protocols));
  const files = parse<OtaUpdateFile[]>(row.files)!;
  const role = await assumeRole(deps, row.role_arn, otaArn, jobId);
  const streams = deps.streams();

  // Where each file is: its own S3 object, or a file of a stream (whose S3 object we then read).
  const streamIds = [...new Set(files.map((f) => f.fileLocation?.stream?.streamId).filter((s) => s !== undefined))];
  const streamFiles = new Map<
    string,
    { fileId?: number; s3Location?: { bucket?: string; key?: string; version?: string } }[]
  >();
  for (const s of streamIds) {
    if (!streams) throw failure('ServiceUnavailable', `Streams are not available on this server (stream ${s}).`);
    const info = await streams.describeStream(s).catch((err: unknown) => {
      if (err instanceof ServiceError && err.code === 'ResourceNotFound') {
        throw failure('ResourceNotFound', `Stream ${s} does not exist.`);
      }
      throw err;
    });
    streamFiles.set(s, info.streamInfo?.files ?? []);
  }
  const located: { object: ObjectRef; size: number }[] = [];
  for (const [i, f] of files.entries()) {
    const where = `files[${i}]`;
    let loc = f.fileLocation?.s3Location as { bucket: string; key: string; version?: string } | undefined;
    const st = f.fileLocation?.stream;
    if (st) {
      const sf = streamFiles.get(st.streamId!)!.find((x) => x.fileId === st.fileId);
      if (!sf?.s3Location?.bucket || !sf.s3Location.key) {
        throw failure('ResourceNotFound', `${where}: stream ${st.streamId} has no file ${st.fileId}.`);
      }
      loc = sf.s3Location as { bucket: string; key: string; version?: string };
    }
    const meta = await resolveObject(deps.objects(), where, loc!);
    const object = { bucket: meta.bucket, key: meta.key, version: meta.versionId };
    requireRead(deps, role, where, object);
    located.push({ object, size: meta.size });
  }

  // Signatures (one Signer job per file when a profile signs).
  const signed: (FileSignature | undefined)[] = [];
  for (const [i, f] of files.entries()) {
    const token = `${id}\n${row.created_at}\n${i}`;
    signed.push(await deps.signer.sign(f, `files[${i}]`, located[i]!.object, otaArn, token));
  }

  // MQTT: the stream devices read the files from (spec 6.5 streamname).
  let streamId: string | null = streamIds[0] ?? null;
  let streamCreated = false;
  if (protocols.includes('MQTT') && streamId === null) {
    if (!streams) throw failure('ServiceUnavailable', 'MQTT delivery needs streams, which this server does not offer.');
    streamId = row.stream_id ?? `${OTA_JOB_PREFIX}${newUuid()}`;
    if (row.stream_id === null) await deps.save({ stream_id: streamId, stream_created: 1 });
    streamCreated = true;
    const exists = await streams.describeStream(streamId).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await streams.createStream({
        streamId,
        description: `OTA update ${id}`,
        files: located.map((l, i) => ({
          fileId: i,
          s3Location: { bucket: l.object.bucket, key: l.object.key, version: l.object.version },
        })),
        roleArn: row.role_arn,
      });
    }
  }

  const docFiles: OtaDocumentFile[] = files.map((f, i) => {
    const sig = signed[i];
    const version = located[i]!.object.version;
    return {
      ...(f.fileName !== undefined && { filePath: f.fileName }),
      fileSize: located[i]!.size,
      fileId: f.fileLocation?.stream?.fileId ?? i,
      ...(sig?.certFile !== undefined && { certFile: sig.certFile }),
      ...(f.fileType !== undefined && { fileType: f.fileType }),
      httpObject: {
        bucket: located[i]!.object.bucket,
        key: located[i]!.object.key,
        ...(version !== 'null' && { version }),
      },
      ...(sig && { signature: { key: sig.key, value: sig.value } }),
    };
  });
  const document = buildOtaDocument({
    protocols,
    ...(streamId !== null && { streamName: streamId }),
    region: ctx.arns.partition.region,
    files: docFiles,
  });
  try {
    await deps.jobs.createJob({
      jobId,
      targets: parse<string[]>(row.targets)!,
      document: JSON.stringify(document),
      ...(row.description !== null && { description: row.description }),
      ...(row.target_selection !== null && { targetSelection: row.target_selection as 'SNAPSHOT' | 'CONTINUOUS' }),
      ...jobConfigsOf(configsOf(row), row.role_arn, protocols),
    });
  } catch (err) {
    // A retry after a crash between CreateJob and recording it finds its own job.
    const ours = row.attempts > 1 && err instanceof ServiceError && err.code === 'ResourceAlreadyExists';
    if (!ours) throw err;
  }
  const filesOut = files.map((f, i) => {
    const signerJobId = signed[i]?.signerJobId;
    if (!signerJobId || f.codeSigning?.awsSignerJobId !== undefined) return f;
    return { ...f, codeSigning: { ...f.codeSigning, awsSignerJobId: signerJobId } };
  });
  return { jobId, streamId, streamCreated, files: filesOut };
}

function configsOf(row: OtaUpdateRow): AwsJobConfigs {
  return {
    ...(row.rollout_config !== null && { awsJobExecutionsRolloutConfig: parse(row.rollout_config) }),
    ...(row.presigned_url_config !== null && { awsJobPresignedUrlConfig: parse(row.presigned_url_config) }),
    ...(row.abort_config !== null && { awsJobAbortConfig: parse(row.abort_config) }),
    ...(row.timeout_config !== null && { awsJobTimeoutConfig: parse(row.timeout_config) }),
  };
}

/**
 * The OTA update's role (CreateOTAUpdate roleArn) must exist and let the IoT service assume it,
 * for the update or for its job (a jobs presign role with `aws:SourceArn` job/* serves both).
 */
async function assumeRole(deps: OtaBuildDeps, roleArn: string, otaArn: string, jobId: string): Promise<LoadedRole> {
  const account = deps.ctx.arns.partition.account;
  const forOta = await deps.iam.access.assumeByService(roleArn, IOT_SERVICE, { account, arn: otaArn });
  if (forOta.ok) return forOta.role;
  if (forOta.reason === 'no-role') throw failure('AccessDenied', `roleArn ${roleArn} does not exist.`);
  const forJob = await deps.iam.access.assumeByService(roleArn, IOT_SERVICE, {
    account,
    arn: deps.ctx.arns.job(jobId),
  });
  if (forJob.ok) return forJob.role;
  throw failure('AccessDenied', forOta.message);
}

/** The role reads the file (it is what streams and presigned downloads use). */
function requireRead(deps: OtaBuildDeps, role: LoadedRole, where: string, o: ObjectRef): void {
  const action = o.version && o.version !== 'null' ? 's3:GetObjectVersion' : 's3:GetObject';
  const plain = deps.iam.access.allows(role, 's3:GetObject', s3Arn(o.bucket, o.key));
  const versioned = deps.iam.access.allows(role, action, s3Arn(o.bucket, o.key));
  if (plain.effect !== 'Allow' && versioned.effect !== 'Allow') {
    throw failure(
      'AccessDenied',
      `${where}: role ${role.name} does not allow s3:GetObject on ${s3Arn(o.bucket, o.key)}.`,
    );
  }
}
