import type { Arns } from '../arns.js';
import { ServiceError } from '../errors.js';
import { IOT_SERVICE } from '../documents/presigned-urls.js';
import type { IamServices } from '../iam/iam.services.js';
import { explain, type LoadedRole } from '../iam/role-access.js';
import type { ObjectsService } from '../objects/objects.service.js';
import type { ObjectMeta } from '../objects/objects.schemas.js';
import { s3Arn } from '../objects/s3-access.js';
import type { StoredStreamFile } from './streams.tables.js';

export interface FileLocation {
  fileId: number;
  bucket: string;
  key: string;
  version?: string;
}

/** Makes the error a failed check turns into (InvalidRequest at create/update, Unauthorized on MQTT). */
export type Fail = (message: string) => ServiceError;

/** The action reading this object needs: S3 asks for GetObjectVersion when a version is named. */
export const readActionFor = (f: FileLocation): string => (f.version ? 's3:GetObjectVersion' : 's3:GetObject');

/** An account that is not ours, to test whether a trust policy pins the source account. */
const otherAccount = (ours: string): string => (ours === '999999999999' ? '111111111111' : '999999999999');

/**
 * The stream's role, checked as for presigned URLs (spec 8, issue 6): it exists, its trust policy
 * lets iot.amazonaws.com assume it for this stream (aws:SourceArn = the stream ARN) and for this
 * account only (the confused-deputy conditions), and it allows reading every file. Asked at
 * CreateStream/UpdateStream and again when devices read (AWS: the role "grants AWS IoT
 * MQTT-based file delivery the permission to read stream files").
 */
export class StreamAccess {
  constructor(private readonly deps: { iam: IamServices; objects: ObjectsService; arns: Arns }) {}

  async checkRole(streamId: string, roleArn: string, files: readonly FileLocation[], fail: Fail): Promise<void> {
    const role = await this.assume(streamId, roleArn, fail);
    for (const f of files) {
      const action = readActionFor(f);
      const decision = this.deps.iam.access.allows(role, action, s3Arn(f.bucket, f.key));
      if (decision.effect !== 'Allow') {
        throw fail(
          `role ${role.name} does not allow ${action} on ${s3Arn(f.bucket, f.key)} (${explain(decision)}), so file ${f.fileId} cannot be read.`,
        );
      }
    }
  }

  /** The object version a file names (the latest when it names none); missing objects fail. */
  async resolve(f: FileLocation, fail: Fail): Promise<ObjectMeta> {
    try {
      const meta = await this.deps.objects.resolve(f.bucket, f.key, f.version);
      if (meta.blobId === null || meta.blobId === undefined) throw fail(`s3://${f.bucket}/${f.key} has no content.`);
      return meta;
    } catch (err) {
      if (!(err instanceof ServiceError) || err.code === 'InternalFailure' || err.code === 'InvalidRequest') throw err;
      const where = `s3://${f.bucket}/${f.key}${f.version ? ` version ${f.version}` : ''}`;
      throw fail(`Unable to access file ${f.fileId} at ${where}: ${err.message}`);
    }
  }

  /** CreateStream/UpdateStream: role and every object checked; sizes and ETags recorded. */
  async resolveForCreate(
    streamId: string,
    roleArn: string,
    files: readonly FileLocation[],
  ): Promise<StoredStreamFile[]> {
    const fail: Fail = (message) => new ServiceError('InvalidRequest', message);
    await this.checkRole(streamId, roleArn, files, fail);
    const out: StoredStreamFile[] = [];
    for (const f of files) {
      const meta = await this.resolve(f, fail);
      out.push({
        fileId: f.fileId,
        bucket: f.bucket,
        key: f.key,
        ...(f.version !== undefined && { version: f.version }),
        resolvedVersionId: meta.versionId,
        size: meta.size,
        etag: meta.etag,
      });
    }
    return out.sort((a, b) => a.fileId - b.fileId);
  }

  private async assume(streamId: string, roleArn: string, fail: Fail): Promise<LoadedRole> {
    const { account, region } = this.deps.arns.partition;
    const outcome = await this.deps.iam.access.assumeByService(roleArn, IOT_SERVICE, {
      account,
      arn: this.deps.arns.stream(streamId),
    });
    if (!outcome.ok) {
      throw fail(
        outcome.reason === 'no-role'
          ? `roleArn ${roleArn} does not exist (create it with iam CreateRole first).`
          : outcome.message,
      );
    }
    const other = otherAccount(account);
    const foreign = this.deps.iam.access.trustDecision(outcome.role, IOT_SERVICE, {
      account: other,
      arn: `arn:aws:iot:${region}:${other}:stream/${streamId}`,
    });
    if (foreign.effect === 'Allow') {
      throw fail(
        `the trust policy of role ${roleArn} lets ${IOT_SERVICE} assume it for any account; add the confused-deputy conditions, e.g. "Condition": {"StringEquals": {"aws:SourceAccount": "${account}"}, "ArnLike": {"aws:SourceArn": "arn:aws:iot:${region}:${account}:*"}} (spec 8).`,
      );
    }
    return outcome.role;
  }
}
