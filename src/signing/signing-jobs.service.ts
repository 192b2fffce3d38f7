import { Readable } from 'node:stream';
import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import { newUuid } from '../ids.js';
import { decodeToken, toPage } from '../store/pagination.js';
import type { SigningCertificatesService } from './certificates.service.js';
import { requirePlatform, signatureAlgorithmName } from './platforms.js';
import type { SigningProfilesService } from './profiles.service.js';
import { requireSignableSource, type SigningObjectStore } from './signing-objects.js';
import { checkStart, requireDestination, type StartSigningJobInput } from './signing-jobs.checks.js';
import { PayloadTooLarge, signStream } from './signing-crypto.js';
import { signedObjectJson } from './signed-object.js';
import * as repo from './signing.repository.js';
import type { SigningJobRow } from './signing.repository.js';
import {
  ACCOUNT_RULE,
  addValidity,
  DEFAULT_PAGE,
  PAGE_RULE,
  seconds,
  signerValidation,
  SIGNING_STATUSES,
  validateSigner,
} from './signing.schemas.js';

export type { StartSigningJobInput };

export interface ListSigningJobsInput {
  status?: string;
  platformId?: string;
  requestedBy?: string;
  maxResults?: number;
  nextToken?: string;
  isRevoked?: boolean;
  signatureExpiresBefore?: Date;
  signatureExpiresAfter?: Date;
  jobInvoker?: string;
}

/** Long enough for the largest object (2 GB) on a slow disk. */
const STALE_AFTER_MS = 60 * 60_000;

/**
 * Signer signing jobs (spec 6.6). A job signs one object version of a versioned bucket, writes the
 * signed-object JSON to `<destination prefix><jobId>` and keeps the digest it signed, so the
 * delivery-time check (signature-guard.ts) can tell when the object no longer matches.
 * Signing runs within the StartSigningJob request: the job is Succeeded or Failed when it returns.
 */
export class SigningJobsService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly profiles: SigningProfilesService,
    private readonly certificates: SigningCertificatesService,
    private readonly objects: () => SigningObjectStore,
  ) {}

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  async startSigningJob(input: StartSigningJobInput, requestedBy: string) {
    const row = await this.sign(input, requestedBy);
    return { jobId: row.job_id, jobOwner: this.ctx.arns.partition.account };
  }

  /**
   * Every check StartSigningJob makes, without signing: the profile can sign, the source is an
   * object version of a versioned bucket within the platform's size, the destination exists.
   */
  async prepare(input: StartSigningJobInput) {
    checkStart(input);
    const src = input.source!.s3! as { bucketName: string; key: string; version: string };
    const profile = await this.profiles.requireProfile(input.profileName!, input.profileOwner);
    if (profile.status !== 'Active') {
      throw signerValidation(`Signing profile ${profile.name} is ${profile.status} and cannot start signing jobs.`);
    }
    const config = this.profiles.configurationOf(profile);
    const objects = this.objects();
    const meta = await requireSignableSource(objects, src.bucketName, src.key, src.version);
    await requireDestination(objects, input.destination!.s3!.bucketName!);
    const maxBytes = config.platform.maxSizeInMB * 1024 * 1024;
    if (meta.size > maxBytes) {
      throw signerValidation(
        `s3://${src.bucketName}/${src.key} is ${meta.size} bytes; platform ${config.platform.platformId} signs at most ${config.platform.maxSizeInMB} MB.`,
      );
    }
    return { profile, config, meta, maxBytes };
  }

  /** Starts a signing job and runs it to its end; the row says Succeeded or Failed. */
  async sign(input: StartSigningJobInput, requestedBy: string): Promise<SigningJobRow> {
    checkStart(input);
    const src = input.source!.s3! as { bucketName: string; key: string; version: string };
    const dest = input.destination!.s3! as { bucketName: string; prefix?: string };
    const earlier = await repo.findJobByToken(this.ctx.db, input.clientRequestToken!);
    if (earlier) return this.replay(earlier, input);
    const { profile, config, maxBytes } = await this.prepare(input);
    const now = this.now();
    const jobId = newUuid();
    const row: SigningJobRow = {
      job_id: jobId,
      client_request_token: input.clientRequestToken!,
      profile_name: profile.name,
      profile_version: profile.version,
      platform_id: profile.platform_id,
      certificate_arn: profile.certificate_arn,
      signing_parameters: profile.signing_parameters,
      overrides: profile.overrides,
      source_bucket: src.bucketName,
      source_key: src.key,
      source_version: src.version,
      dest_bucket: dest.bucketName,
      dest_prefix: dest.prefix ?? '',
      signed_key: null,
      status: 'InProgress',
      status_reason: null,
      requested_by: requestedBy,
      payload_size: null,
      payload_sha256: null,
      signature: null,
      signature_algorithm: null,
      created_at: now,
      completed_at: null,
      signature_expires_at: addValidity(now, { value: profile.validity_value, type: profile.validity_type }),
    };
    try {
      await repo.insertJob(this.ctx.db, row);
    } catch (err) {
      const raced = await repo.findJobByToken(this.ctx.db, input.clientRequestToken!);
      if (raced) return this.replay(raced, input);
      throw err;
    }
    return this.run(row, config.hash, config.encryption, maxBytes);
  }

  private async run(
    row: SigningJobRow,
    hash: Parameters<typeof signStream>[2],
    encryption: Parameters<typeof signatureAlgorithmName>[1],
    maxBytes: number,
  ): Promise<SigningJobRow> {
    let done: SigningJobRow;
    try {
      const material = await this.certificates.material(row.certificate_arn);
      if (material.encryption !== encryption) {
        throw new Error(
          `the profile's certificate has an ${material.encryption} key; the profile signs with ${encryption}`,
        );
      }
      const objects = this.objects();
      const meta = await objects.resolve(row.source_bucket, row.source_key, row.source_version);
      const signed = await signStream(await objects.openBody(meta), material.key, hash, maxBytes);
      const signedKey = `${row.dest_prefix}${row.job_id}`;
      done = {
        ...row,
        status: 'Succeeded',
        status_reason: 'Signing Succeeded',
        signed_key: signedKey,
        payload_size: signed.size,
        payload_sha256: signed.sha256,
        signature: signed.signature,
        signature_algorithm: signatureAlgorithmName(hash, encryption),
        completed_at: this.now(),
      };
      const body = Buffer.from(signedObjectJson(done), 'utf8');
      await objects.putObject(
        row.dest_bucket,
        signedKey,
        Readable.from([body]),
        { length: body.length },
        {
          contentType: 'application/json',
          userMetadata: {},
          headers: {},
        },
      );
    } catch (err) {
      const reason =
        err instanceof PayloadTooLarge || !(err instanceof ServiceError) ? (err as Error).message : err.message;
      this.ctx.logger.warn({ signingJobId: row.job_id, reason }, 'signing job failed');
      done = { ...row, status: 'Failed', status_reason: `Signing failed: ${reason}`, completed_at: this.now() };
    }
    await repo.updateJob(this.ctx.db, row.job_id, {
      status: done.status,
      status_reason: done.status_reason,
      signed_key: done.signed_key,
      payload_size: done.payload_size,
      payload_sha256: done.payload_sha256,
      signature: done.signature,
      signature_algorithm: done.signature_algorithm,
      completed_at: done.completed_at,
    });
    return done;
  }

  /**
   * A signing job runs within its StartSigningJob request, so one still InProgress long after it
   * began was cut off by a crash: it is Failed (called on start; other replicas' jobs are younger).
   */
  async failInterrupted(olderThanMs = STALE_AFTER_MS): Promise<number> {
    const now = this.now();
    return repo.failStale(this.ctx.db, now - olderThanMs, now, 'Signing failed: the server stopped while signing.');
  }

  /** clientRequestToken makes StartSigningJob idempotent: the same request answers the same job. */
  private replay(earlier: SigningJobRow, input: StartSigningJobInput): SigningJobRow {
    const s = input.source!.s3!;
    const same =
      earlier.profile_name === input.profileName &&
      earlier.source_bucket === s.bucketName &&
      earlier.source_key === s.key &&
      earlier.source_version === s.version;
    if (!same) {
      throw signerValidation(
        `clientRequestToken ${input.clientRequestToken} was already used for another signing job.`,
      );
    }
    return earlier;
  }

  async requireJob(jobId: string): Promise<SigningJobRow> {
    validateSigner((v) => {
      if (v.required('jobId', jobId)) v.string('jobId', jobId, { min: 1, max: 64 });
    });
    const row = await repo.findJob(this.ctx.db, jobId);
    if (!row) throw new ServiceError('ResourceNotFound', `Signing job ${jobId} does not exist.`);
    return row;
  }

  async describeSigningJob(jobId: string) {
    const row = await this.requireJob(jobId);
    return {
      ...this.summary(row),
      ...(row.overrides !== null && { overrides: JSON.parse(row.overrides) as unknown }),
      ...(row.signing_parameters !== null && { signingParameters: JSON.parse(row.signing_parameters) as unknown }),
      ...(row.completed_at !== null && { completedAt: seconds(row.completed_at) }),
      requestedBy: row.requested_by,
      ...(row.status_reason !== null && { statusReason: row.status_reason }),
    };
  }

  async listSigningJobs(input: ListSigningJobsInput) {
    validateSigner((v) => {
      v.string('status', input.status, { enum: SIGNING_STATUSES });
      v.number('maxResults', input.maxResults, PAGE_RULE);
      v.string('jobInvoker', input.jobInvoker, ACCOUNT_RULE);
    });
    const limit = input.maxResults ?? DEFAULT_PAGE;
    const token = decodeToken(input.nextToken, 2);
    const account = this.ctx.arns.partition.account;
    // No signature is ever revoked here; jobs of other accounts do not exist.
    if (input.isRevoked === true || (input.jobInvoker !== undefined && input.jobInvoker !== account))
      return { jobs: [] };
    const rows = await repo.listJobs(this.ctx.db, {
      status: input.status,
      platformId: input.platformId,
      requestedBy: input.requestedBy,
      expiresBefore: input.signatureExpiresBefore?.getTime(),
      expiresAfter: input.signatureExpiresAfter?.getTime(),
      after: token && [Number(token[0]), String(token[1])],
      limit,
    });
    const page = toPage(rows, limit, (r) => [r.created_at, r.job_id]);
    return {
      jobs: page.items.map((r) => ({ ...this.summary(r), isRevoked: false })),
      ...(page.nextToken !== undefined && { nextToken: page.nextToken }),
    };
  }

  private summary(row: SigningJobRow) {
    const account = this.ctx.arns.partition.account;
    return {
      jobId: row.job_id,
      source: { s3: { bucketName: row.source_bucket, key: row.source_key, version: row.source_version } },
      ...(row.signed_key !== null && { signedObject: { s3: { bucketName: row.dest_bucket, key: row.signed_key } } }),
      signingMaterial: { certificateArn: row.certificate_arn },
      createdAt: seconds(row.created_at),
      status: row.status,
      profileName: row.profile_name,
      profileVersion: row.profile_version,
      platformId: row.platform_id,
      platformDisplayName: requirePlatform(row.platform_id).displayName,
      ...(row.signature_expires_at !== null && { signatureExpiresAt: seconds(row.signature_expires_at) }),
      jobOwner: account,
      jobInvoker: account,
    };
  }
}
