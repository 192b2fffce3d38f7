import type { Arns } from '../arns.js';
import type { Clock } from '../clock.js';
import { ServiceError } from '../errors.js';
import type { IamServices } from '../iam/iam.services.js';
import { explain, type LoadedRole } from '../iam/role-access.js';
import { presignGetUrl } from '../objects/presign.js';
import { s3Arn } from '../objects/s3-access.js';
import { checkedPlaceholders, substitute, type Placeholder } from './placeholders.js';

/** spec 3.4: presignedUrlConfig; expiresInSec defaults to 3600. */
export interface PresignedUrlSettings {
  roleArn?: string;
  expiresInSec?: number;
}

export const DEFAULT_EXPIRES_IN_SEC = 3600;
/** The service principal that assumes the job's role (spec 8). */
export const IOT_SERVICE = 'iot.amazonaws.com';

export interface PresignedUrlDeps {
  iam: IamServices;
  arns: Arns;
  clock: Clock;
  /** Base URL of the device HTTPS listener (embedded-store URLs must be https); undefined when it is not running. */
  deviceHttpsUrl: () => string | undefined;
}

/** The action a presigned GET of this object needs (S3 asks for GetObjectVersion when a version is named). */
export const getActionFor = (p: Placeholder): string => (p.ref.versionId ? 's3:GetObjectVersion' : 's3:GetObject');

/**
 * Presigned-URL placeholders (spec 6.1, 8): checked when a job is created, and replaced with fresh
 * URLs every time a device fetches the document, made with temporary credentials of the job's
 * role after the role's trust policy lets the IoT service assume it for this job.
 */
export class PresignedUrls {
  constructor(private readonly deps: PresignedUrlDeps) {}

  /**
   * CreateJob: the placeholders parse, there are at most 10, a role is configured when there are
   * any, the role exists, and its trust policy admits the IoT service for this job's ARN.
   */
  async checkForCreate(document: string, jobId: string, config: PresignedUrlSettings | undefined): Promise<void> {
    const placeholders = checkedPlaceholders(document);
    if (placeholders.length === 0) return;
    if (!config?.roleArn) {
      throw new ServiceError(
        'InvalidRequest',
        `The job document contains ${placeholders.length} presigned-URL placeholder(s) but the job has no presignedUrlConfig.roleArn to make them with.`,
      );
    }
    await this.assume(config.roleArn, jobId, (message) => new ServiceError('InvalidRequest', message));
  }

  /** Delivery: the document with every placeholder replaced by a URL valid for expiresInSec. */
  async render(job: { jobId: string; document: string; presignedUrlConfig?: PresignedUrlSettings }): Promise<string> {
    const placeholders = checkedPlaceholders(job.document);
    if (placeholders.length === 0) return job.document;
    // spec 8: how AWS reports a failure here is undocumented; the recommendation is InternalError
    // on MQTT and 500 on HTTP, with a message that says what to fix.
    const refuse = (message: string): ServiceError =>
      new ServiceError('InternalFailure', `Cannot make the presigned URLs of job ${job.jobId}: ${message}`);
    const config = job.presignedUrlConfig;
    if (!config?.roleArn) throw refuse('the job has no presignedUrlConfig.roleArn.');
    const role = await this.assume(config.roleArn, job.jobId, refuse);
    for (const p of placeholders) {
      const decision = this.deps.iam.access.allows(role, getActionFor(p), s3Arn(p.ref.bucket, p.ref.key));
      if (decision.effect !== 'Allow') {
        throw refuse(
          `role ${role.name} does not allow ${getActionFor(p)} on ${s3Arn(p.ref.bucket, p.ref.key)} (${explain(decision)}).`,
        );
      }
    }
    const base = this.deps.deviceHttpsUrl();
    if (!base) throw refuse('the device HTTPS listener, which serves the downloads, is not running.');
    const expiresInSec = config.expiresInSec ?? DEFAULT_EXPIRES_IN_SEC;
    const jobArn = this.deps.arns.job(job.jobId);
    const credentials = await this.deps.iam.sessions.issue(
      { roleArn: role.arn, roleName: role.name, sessionName: sessionName(job.jobId), sourceArn: jobArn },
      expiresInSec,
    );
    const now = this.deps.clock.now();
    const urls = placeholders.map((p) =>
      presignGetUrl({
        baseUrl: base,
        bucket: p.ref.bucket,
        key: p.ref.key,
        ...(p.ref.versionId !== undefined && { versionId: p.ref.versionId }),
        credentials,
        region: this.deps.arns.partition.region,
        expiresInSec,
        now,
      }),
    );
    return substitute(job.document, placeholders, urls);
  }

  private async assume(roleArn: string, jobId: string, fail: (message: string) => ServiceError): Promise<LoadedRole> {
    const { account, region } = this.deps.arns.partition;
    const outcome = await this.deps.iam.access.assumeByService(roleArn, IOT_SERVICE, {
      account,
      arn: this.deps.arns.job(jobId),
    });
    if (!outcome.ok) {
      throw fail(
        outcome.reason === 'no-role'
          ? `presignedUrlConfig.roleArn ${roleArn} does not exist (create it with iam CreateRole first).`
          : outcome.message,
      );
    }
    // Issue 6: the trust must carry the confused-deputy conditions. A policy that would also let
    // the IoT service assume the role for another account's job does not.
    const other = otherAccount(account);
    const foreign = this.deps.iam.access.trustDecision(outcome.role, IOT_SERVICE, {
      account: other,
      arn: `arn:aws:iot:${region}:${other}:job/${jobId}`,
    });
    if (foreign.effect === 'Allow') {
      throw fail(
        `the trust policy of role ${roleArn} lets ${IOT_SERVICE} assume it for any account's jobs; add the confused-deputy conditions, e.g. "Condition": {"StringEquals": {"aws:SourceAccount": "${account}"}, "ArnLike": {"aws:SourceArn": "arn:aws:iot:${region}:${account}:job/*"}} (spec 8).`,
      );
    }
    return outcome.role;
  }
}

/** An account that is not ours, to test whether a trust policy pins the source account. */
const otherAccount = (ours: string): string => (ours === '999999999999' ? '111111111111' : '999999999999');

/** Role session names: 2-64 characters of [\w+=,.@-]. */
const sessionName = (jobId: string): string => `iot-job-${jobId}`.slice(0, 64);
