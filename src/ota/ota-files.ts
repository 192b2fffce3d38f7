import { createHash } from 'node:crypto';
import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import type { ObjectMeta } from '../objects/objects.schemas.js';
import { SIGNED_PREFIX } from '../signing/job-document-signer.js';
import type { SigningServices } from '../signing/signing.services.js';
import type { SigningJobRow } from '../signing/signing.repository.js';
import { parseJson } from '../signing/signing.schemas.js';
import { signatureKey } from './ota-document.js';
import type { OtaUpdateFile } from './ota.schemas.js';

/** What the OTA worker needs of the streams feature (src/streams, AWS CreateStream & co.). */
export interface OtaStreams {
  createStream(input: {
    streamId: string;
    description?: string;
    files: { fileId: number; s3Location: { bucket: string; key: string; version?: string } }[];
    roleArn: string;
  }): Promise<unknown>;
  describeStream(streamId: string): Promise<{
    streamInfo?: { files?: { fileId?: number; s3Location?: { bucket?: string; key?: string; version?: string } }[] };
  }>;
  deleteStream(streamId: string): Promise<unknown>;
}

export interface ObjectRef {
  bucket: string;
  key: string;
  version: string;
}

/** What the document needs of one signed file. */
export interface FileSignature {
  key: string;
  value: string;
  certFile?: string;
  /** The Signer job that made it (OTAUpdateFile.codeSigning.awsSignerJobId in GetOTAUpdate). */
  signerJobId?: string;
}

/** A failure the OTA update ends CREATE_FAILED with (errorInfo). */
export const failure = (code: ConstructorParameters<typeof ServiceError>[0], message: string): ServiceError =>
  new ServiceError(code, message);

/** The object version a file names (its current version when the request gave none). */
export async function resolveObject(
  objects: { resolve(bucket: string, key: string, versionId?: string): Promise<ObjectMeta> },
  where: string,
  loc: { bucket: string; key: string; version?: string },
): Promise<ObjectMeta> {
  const url = `s3://${loc.bucket}/${loc.key}${loc.version ? ` version ${loc.version}` : ''}`;
  try {
    const meta = await objects.resolve(loc.bucket, loc.key, loc.version);
    if (meta.isDeleteMarker) throw failure('ResourceNotFound', `${where}: ${url} is deleted.`);
    return meta;
  } catch (err) {
    if (
      err instanceof ServiceError &&
      ['NoSuchBucket', 'NoSuchKey', 'NoSuchVersion', 'MethodNotAllowed'].includes(err.code)
    ) {
      throw failure('ResourceNotFound', `${where}: ${url} does not exist (${err.message}).`);
    }
    throw err;
  }
}

/** "SHA256withECDSA" (Signer's signatureAlgorithm) as the FreeRTOS key, e.g. sig-sha256-ecdsa. */
function keyOfSignerAlgorithm(name: string): string {
  const m = /^(SHA\d+)with(\w+)$/i.exec(name);
  return m ? signatureKey(m[1]!, m[2]!) : signatureKey('sha256', 'ecdsa');
}

const certnameOf = (params: string | null): string | undefined =>
  parseJson<Record<string, string>>(params)?.certname ?? undefined;

/**
 * The signature of one file by the file's codeSigning method (CreateOTAUpdate CodeSigning):
 * an existing Signer job, a new one with a signing profile (created from signingProfileParameter
 * when it does not exist, as AWS does), or the caller's own signature.
 */
export class OtaSigner {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly signing: () => SigningServices,
  ) {}

  async sign(...args: Parameters<OtaSigner['signFile']>): Promise<FileSignature | undefined> {
    try {
      return await this.signFile(...args);
    } catch (err) {
      // Signer's own errors keep their code; the message says which file.
      if (err instanceof ServiceError && !err.message.startsWith(args[1])) {
        throw new ServiceError(err.code, `${args[1]}: ${err.message}`);
      }
      throw err;
    }
  }

  private async signFile(
    file: OtaUpdateFile,
    where: string,
    object: ObjectRef,
    requestedBy: string,
    token: string,
  ): Promise<FileSignature | undefined> {
    const cs = file.codeSigning;
    if (!cs) return undefined;
    if (cs.customCodeSigning) {
      const c = cs.customCodeSigning;
      const sig = Buffer.from(c.signature!.inlineDocument!, 'base64');
      return {
        key: signatureKey(c.hashAlgorithm!, c.signatureAlgorithm!),
        value: sig.toString('base64'),
        ...(c.certificateChain?.certificateName !== undefined && { certFile: c.certificateChain.certificateName }),
      };
    }
    if (cs.awsSignerJobId !== undefined) {
      const job = await this.signing().jobs.requireJob(cs.awsSignerJobId);
      if (job.status !== 'Succeeded') {
        throw failure(
          'InvalidRequest',
          `${where}: signing job ${job.job_id} is ${job.status} (${job.status_reason ?? 'no signature'}).`,
        );
      }
      if (
        job.source_bucket !== object.bucket ||
        job.source_key !== object.key ||
        job.source_version !== object.version
      ) {
        throw failure(
          'InvalidRequest',
          `${where}: signing job ${job.job_id} signed s3://${job.source_bucket}/${job.source_key} version ${job.source_version}, not the file's s3://${object.bucket}/${object.key} version ${object.version}.`,
        );
      }
      return this.fromJob(job, certnameOf(job.signing_parameters));
    }
    const start = cs.startSigningJobParameter!;
    const profile = await this.profileFor(start, where);
    const dest = start.destination?.s3Destination;
    const job = await this.signing().jobs.sign(
      {
        source: { s3: { bucketName: object.bucket, key: object.key, version: object.version } },
        destination: { s3: { bucketName: dest?.bucket ?? object.bucket, prefix: dest?.prefix ?? SIGNED_PREFIX } },
        profileName: profile,
        clientRequestToken: `ota-${createHash('sha256').update(token).digest('hex').slice(0, 40)}`,
      },
      requestedBy,
    );
    if (job.status !== 'Succeeded') {
      throw failure(
        'InvalidRequest',
        `${where}: signing job ${job.job_id} failed: ${job.status_reason ?? 'no reason given'}`,
      );
    }
    const certFile = certnameOf(job.signing_parameters) ?? start.signingProfileParameter?.certificatePathOnDevice;
    return this.fromJob(job, certFile);
  }

  private fromJob(job: SigningJobRow, certFile: string | undefined): FileSignature {
    return {
      key: keyOfSignerAlgorithm(job.signature_algorithm ?? ''),
      value: job.signature!,
      ...(certFile !== undefined && { certFile }),
      signerJobId: job.job_id,
    };
  }

  /** The profile to sign with; made from signingProfileParameter when it does not exist yet. */
  private async profileFor(
    start: NonNullable<OtaUpdateFile['codeSigning']>['startSigningJobParameter'] & object,
    where: string,
  ) {
    const name = start.signingProfileName!;
    const profiles = this.signing().profiles;
    try {
      await profiles.requireProfile(name);
      return name;
    } catch (err) {
      if (!(err instanceof ServiceError && err.code === 'ResourceNotFound')) throw err;
    }
    const p = start.signingProfileParameter;
    if (!p?.platform) {
      throw failure(
        'ResourceNotFound',
        `${where}: signing profile ${name} does not exist, and no signingProfileParameter.platform says how to create it.`,
      );
    }
    try {
      await profiles.putSigningProfile({
        profileName: name,
        platformId: p.platform,
        ...(p.certificateArn !== undefined && { signingMaterial: { certificateArn: p.certificateArn } }),
        ...(p.certificatePathOnDevice !== undefined && {
          signingParameters: { certname: p.certificatePathOnDevice },
        }),
      });
    } catch (err) {
      // Another replica made it first.
      if (!(err instanceof ServiceError && err.code === 'Conflict')) throw err;
    }
    this.ctx.logger.info({ profile: name }, 'OTA update created a signing profile');
    return name;
  }
}
