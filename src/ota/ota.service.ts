import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import type { JobLifecycleService } from '../jobs/job-lifecycle.service.js';
import { isUniqueViolation } from '../jobs/db-errors.js';
import { decodeToken, toPage } from '../store/pagination.js';
import type { TagsService } from '../tags/tags.service.js';
import { MAX_RESULTS_RULE, validate } from '../validation.js';
import { otaJobId, protocolsOf } from './ota-document.js';
import type { OtaStreams } from './ota-files.js';
import type { OtaWorker } from './ota-worker.js';
import * as repo from './ota.repository.js';
import type { OtaUpdateRow } from './ota.repository.js';
import {
  checkCreateOtaUpdate,
  checkOtaUpdateId,
  MAX_OTA_UPDATE_ID_FOR_JOB,
  OTA_BUILDING,
  OTA_UPDATE_STATUSES,
  type CreateOtaUpdateInput,
  type OtaUpdateFile,
} from './ota.schemas.js';

const invalid = (message: string): ServiceError => new ServiceError('InvalidRequest', message);
const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));
const parse = <T>(text: string | null): T | undefined => (text === null ? undefined : (JSON.parse(text) as T));
const seconds = (ms: number): number => ms / 1000;

/**
 * CreateOTAUpdate and friends (issue 20 item 3). CreateOTAUpdate checks the request, records it
 * CREATE_PENDING and returns; the OTA worker (ota-worker.ts) signs, streams and creates the job.
 */
export class OtaUpdatesService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly deps: {
      tags: TagsService;
      jobLifecycle: JobLifecycleService;
      worker: () => OtaWorker;
      streams: () => OtaStreams | undefined;
    },
  ) {}

  private arn(id: string): string {
    return this.ctx.arns.iot('otaupdate', id);
  }

  async createOtaUpdate(input: CreateOtaUpdateInput) {
    checkCreateOtaUpdate(input);
    checkShape(input);
    const id = input.otaUpdateId;
    if (id.length > MAX_OTA_UPDATE_ID_FOR_JOB) {
      // The job AFR_OTA-<id> must be a valid job id (at most 64 characters).
      throw invalid(`otaUpdateId ${id} is ${id.length} characters; its job ${otaJobId(id)} would be longer than 64.`);
    }
    for (const t of input.targets!) {
      const parsed = this.ctx.arns.parseIot(t);
      if (!parsed || (parsed.resource !== 'thing' && parsed.resource !== 'thinggroup')) {
        throw invalid(`Target ${t} is not a thing or thing group ARN of this account and region.`);
      }
    }
    const now = this.ctx.clock.now().getTime();
    const arn = this.arn(id);
    const exists = () =>
      new ServiceError('ResourceAlreadyExists', `OTA update ${id} already exists.`, {
        resourceId: id,
        resourceArn: arn,
      });
    try {
      await this.ctx.db.transaction().execute(async (trx) => {
        if (await repo.findUpdate(trx, id)) throw exists();
        await repo.insertUpdate(trx, {
          ota_update_id: id,
          status: 'CREATE_PENDING',
          description: input.description ?? null,
          targets: JSON.stringify(input.targets),
          protocols: json(input.protocols),
          target_selection: input.targetSelection ?? null,
          rollout_config: json(input.awsJobExecutionsRolloutConfig),
          presigned_url_config: json(input.awsJobPresignedUrlConfig),
          abort_config: json(input.awsJobAbortConfig),
          timeout_config: json(input.awsJobTimeoutConfig),
          files: JSON.stringify(input.files),
          role_arn: input.roleArn!,
          additional_parameters: json(input.additionalParameters),
          stream_id: null,
          stream_created: 0,
          aws_iot_job_id: null,
          error_code: null,
          error_message: null,
          lease_owner: null,
          lease_until: 0,
          attempts: 0,
          created_at: now,
          updated_at: now,
        });
        if (input.tags && input.tags.length > 0) await this.deps.tags.putTags(trx, arn, input.tags);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw exists();
      throw err;
    }
    this.deps.worker().kick();
    return { otaUpdateId: id, otaUpdateArn: arn, otaUpdateStatus: 'CREATE_PENDING' };
  }

  async requireUpdate(id: string): Promise<OtaUpdateRow> {
    validate((v) => checkOtaUpdateId(v, id));
    const row = await repo.findUpdate(this.ctx.db, id);
    if (!row) throw new ServiceError('ResourceNotFound', `OTA update ${id} does not exist.`);
    return row;
  }

  async getOtaUpdate(id: string) {
    const row = await this.requireUpdate(id);
    const opt = <T>(name: string, text: string | null) => (text === null ? {} : { [name]: parse<T>(text) });
    return {
      otaUpdateInfo: {
        otaUpdateId: row.ota_update_id,
        otaUpdateArn: this.arn(row.ota_update_id),
        creationDate: seconds(row.created_at),
        lastModifiedDate: seconds(row.updated_at),
        ...(row.description !== null && { description: row.description }),
        targets: parse<string[]>(row.targets),
        protocols: protocolsOf(parse(row.protocols)),
        ...opt('awsJobExecutionsRolloutConfig', row.rollout_config),
        ...opt('awsJobPresignedUrlConfig', row.presigned_url_config),
        targetSelection: row.target_selection ?? 'SNAPSHOT',
        otaUpdateFiles: parse<OtaUpdateFile[]>(row.files),
        otaUpdateStatus: row.status,
        ...(row.aws_iot_job_id !== null && {
          awsIotJobId: row.aws_iot_job_id,
          awsIotJobArn: this.ctx.arns.job(row.aws_iot_job_id),
        }),
        ...(row.error_code !== null && { errorInfo: { code: row.error_code, message: row.error_message ?? '' } }),
        ...opt('additionalParameters', row.additional_parameters),
      },
    };
  }

  async listOtaUpdates(input: { maxResults?: number; nextToken?: string; otaUpdateStatus?: string }) {
    validate((v) => {
      v.number('maxResults', input.maxResults, MAX_RESULTS_RULE);
      v.string('otaUpdateStatus', input.otaUpdateStatus, { enum: OTA_UPDATE_STATUSES });
    });
    const limit = input.maxResults ?? 50;
    const token = decodeToken(input.nextToken, 2);
    const rows = await repo.listUpdates(this.ctx.db, {
      status: input.otaUpdateStatus,
      after: token && [Number(token[0]), String(token[1])],
      limit,
    });
    const page = toPage(rows, limit, (r) => [r.created_at, r.ota_update_id]);
    return {
      otaUpdates: page.items.map((r) => ({
        otaUpdateId: r.ota_update_id,
        otaUpdateArn: this.arn(r.ota_update_id),
        creationDate: seconds(r.created_at),
      })),
      ...(page.nextToken !== undefined && { nextToken: page.nextToken }),
    };
  }

  /**
   * DeleteOTAUpdate: the job first (only a COMPLETED or CANCELED one unless forceDeleteAWSJob),
   * then the stream the update made (with deleteStream; a stream the caller gave is kept), then
   * the record. AWS does this asynchronously (DELETE_IN_PROGRESS); here it is done when the call
   * returns, except the job's executions, which DeleteJob removes in the background.
   */
  async deleteOtaUpdate(input: { otaUpdateId: string; deleteStream?: boolean; forceDeleteAWSJob?: boolean }) {
    validate((v) => {
      v.boolean('deleteStream', input.deleteStream);
      v.boolean('forceDeleteAWSJob', input.forceDeleteAWSJob);
    });
    const row = await this.requireUpdate(input.otaUpdateId);
    if (OTA_BUILDING.includes(row.status as (typeof OTA_BUILDING)[number])) {
      throw new ServiceError(
        'VersionConflict',
        `OTA update ${row.ota_update_id} is ${row.status}; delete it when it is CREATE_COMPLETE or CREATE_FAILED.`,
      );
    }
    if (row.aws_iot_job_id !== null) await this.deleteJob(row.aws_iot_job_id, input.forceDeleteAWSJob === true);
    await this.ctx.db.transaction().execute(async (trx) => {
      await repo.deleteUpdate(trx, row.ota_update_id);
      await this.deps.tags.deleteAllTags(trx, this.arn(row.ota_update_id));
    });
    // After the record: a stream is held while an update uses it (ota.services.ts).
    const streams = this.deps.streams();
    if (input.deleteStream === true && row.stream_created === 1 && row.stream_id !== null && streams) {
      await streams.deleteStream(row.stream_id).catch((err: unknown) => {
        if (err instanceof ServiceError && err.code === 'ResourceNotFound') return;
        this.ctx.logger.warn({ err, streamId: row.stream_id }, 'DeleteOTAUpdate could not delete the stream');
      });
    }
  }

  private async deleteJob(jobId: string, force: boolean): Promise<void> {
    try {
      await this.deps.jobLifecycle.deleteJob({ jobId, force });
    } catch (err) {
      if (err instanceof ServiceError && err.code === 'ResourceNotFound') return;
      if (err instanceof ServiceError && err.code === 'InvalidStateTransition') {
        throw invalid(`${err.message} Pass forceDeleteAWSJob=true to delete the OTA update and its job anyway.`);
      }
      throw err;
    }
  }
}

/** What the model cannot say: one location and at most one signing method per file, one stream. */
function checkShape(input: CreateOtaUpdateInput): void {
  const streams = new Set<string>();
  let s3Files = 0;
  input.files!.forEach((f, i) => {
    const where = `files[${i}]`;
    const loc = f.fileLocation;
    const kinds = [loc?.stream, loc?.s3Location].filter((x) => x !== undefined).length;
    if (kinds !== 1) throw invalid(`${where}.fileLocation must name either a stream or an s3Location.`);
    if (loc?.stream) {
      if (loc.stream.streamId === undefined || loc.stream.fileId === undefined) {
        throw invalid(`${where}.fileLocation.stream needs streamId and fileId.`);
      }
      streams.add(loc.stream.streamId);
    }
    if (loc?.s3Location) {
      s3Files++;
      if (!loc.s3Location.bucket || !loc.s3Location.key) {
        throw invalid(`${where}.fileLocation.s3Location needs bucket and key.`);
      }
    }
    const cs = f.codeSigning;
    if (!cs) return;
    const methods = [cs.awsSignerJobId, cs.startSigningJobParameter, cs.customCodeSigning].filter(
      (x) => x !== undefined,
    );
    if (methods.length !== 1) {
      throw invalid(
        `${where}.codeSigning must have exactly one of awsSignerJobId, startSigningJobParameter, customCodeSigning.`,
      );
    }
    if (cs.startSigningJobParameter && !cs.startSigningJobParameter.signingProfileName) {
      throw invalid(`${where}.codeSigning.startSigningJobParameter.signingProfileName is required.`);
    }
    const c = cs.customCodeSigning;
    if (c) {
      const sig = c.signature?.inlineDocument;
      if (!sig || !/^[A-Za-z0-9+/]+={0,2}$/.test(sig)) {
        throw invalid(
          `${where}.codeSigning.customCodeSigning.signature.inlineDocument must be the signature (base64).`,
        );
      }
      if (!c.hashAlgorithm || !c.signatureAlgorithm) {
        throw invalid(
          `${where}.codeSigning.customCodeSigning needs hashAlgorithm and signatureAlgorithm (e.g. SHA256, ECDSA).`,
        );
      }
    }
  });
  // One job document names one stream (spec 6.5 streamname).
  if (streams.size > 1) throw invalid(`The files name ${streams.size} streams; an OTA update streams from one.`);
  if (streams.size === 1 && s3Files > 0) {
    throw invalid('The files are partly in a stream and partly in S3; put them all in the stream or all in S3.');
  }
}
