import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import { newUuid } from '../ids.js';
import {
  findCodeSignPlaceholders,
  freertosKeyAccepts,
  hasCodeSignPlaceholder,
  PlaceholderError,
  refId,
  replaceCodeSignPlaceholders,
  type CodeSignOccurrence,
  type SignatureForRef,
} from './code-sign-placeholders.js';
import { signatureAlgorithmName } from './platforms.js';
import type { SigningProfilesService } from './profiles.service.js';
import type { SigningJobsService } from './signing-jobs.service.js';
import { signatureBlock } from './signed-object.js';
import * as repo from './signing.repository.js';
import type { ProfileRow } from './signing.repository.js';
import { parseJson } from './signing.schemas.js';

/** CreateJob's fleetjobs extension member naming the profile that fills code-sign placeholders. */
export interface CodeSigningOption {
  profileName?: string;
}

/** Tag a profile `fleetjobs:defaultForJobs=true` to have it sign documents whose job names none. */
export const DEFAULT_PROFILE_TAG = 'fleetjobs:defaultForJobs';
/** What a preview puts where the signature will be. */
export const PREVIEW_SIGNATURE = '(signed when the job is created)';

type JobInput = { jobId?: string; codeSigning?: unknown };

/** spec 6.3: the console writes signed objects under SignedImages/ in the source bucket. */
export const SIGNED_PREFIX = 'SignedImages/';

const invalid = (message: string): ServiceError => new ServiceError('InvalidRequest', message);

/**
 * The CreateJob document preprocessor for `${aws:iot:code-sign-signature:...}` (spec 6.3): what
 * the AWS console does, done by the service, so the API, the CLI and the console all get it. Each
 * distinct object version is signed by a signing job of the chosen profile, and the signature
 * block (spec 6.4) takes the placeholder's place. Runs before the job's transaction.
 */
export class JobDocumentSigner {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly profiles: SigningProfilesService,
    private readonly signingJobs: SigningJobsService,
  ) {}

  readonly preprocess = (document: string, input: JobInput): Promise<string> => this.fill(document, input, false);

  /**
   * What CreateJob would store, with every check it makes but without signing anything (the
   * console's preview): signatures read PREVIEW_SIGNATURE.
   */
  preview(document: string, input: JobInput): Promise<string> {
    return this.fill(document, input, true);
  }

  private async fill(document: string, input: JobInput, dryRun: boolean): Promise<string> {
    if (!hasCodeSignPlaceholder(document)) return document;
    let occurrences: CodeSignOccurrence[];
    try {
      occurrences = findCodeSignPlaceholders(document);
    } catch (err) {
      if (err instanceof PlaceholderError) throw invalid(err.message);
      throw err;
    }
    const region = this.ctx.arns.partition.region;
    for (const o of occurrences) {
      if (o.ref.region !== region) {
        throw invalid(
          `The code-sign placeholder for s3://${o.ref.bucket}/${o.ref.key} names region ${o.ref.region}; this server's region is ${region}.`,
        );
      }
    }
    const profile = await this.chooseProfile(codeSigningOf(input.codeSigning));
    const config = this.profiles.configurationOf(profile);
    const algorithm = signatureAlgorithmName(config.hash, config.encryption);
    for (const o of occurrences) {
      if (o.freertosKey !== undefined && !freertosKeyAccepts(o.freertosKey, algorithm)) {
        throw invalid(
          `"${o.freertosKey}" needs a signature of its own algorithm, but signing profile ${profile.name} makes ${algorithm} signatures.`,
        );
      }
    }
    const signatures = new Map<string, SignatureForRef>();
    for (const o of occurrences) {
      if (signatures.has(refId(o.ref))) continue;
      const block = dryRun ? await this.checkOne(o, profile, algorithm) : await this.signOne(o, profile, input.jobId);
      signatures.set(refId(o.ref), block);
    }
    return replaceCodeSignPlaceholders(document, signatures);
  }

  private async checkOne(o: CodeSignOccurrence, profile: ProfileRow, algorithm: string): Promise<SignatureForRef> {
    const { meta } = await this.asJobError(o, () => this.signingJobs.prepare(this.request(o, profile)));
    return {
      block: {
        rawPayloadSize: meta.size,
        signature: PREVIEW_SIGNATURE,
        signatureAlgorithm: algorithm,
        payloadLocation: { s3: { bucketName: o.ref.bucket, key: o.ref.key, version: o.ref.version } },
      },
    };
  }

  private request(o: CodeSignOccurrence, profile: ProfileRow) {
    return {
      source: { s3: { bucketName: o.ref.bucket, key: o.ref.key, version: o.ref.version } },
      destination: { s3: { bucketName: o.ref.bucket, prefix: SIGNED_PREFIX } },
      profileName: profile.name,
      clientRequestToken: newUuid(),
    };
  }

  /** Signer's ValidationException / ResourceNotFound are the job's InvalidRequest here. */
  private async asJobError<T>(o: CodeSignOccurrence, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof ServiceError && err.code !== 'InternalFailure' && err.code !== 'ServiceUnavailable') {
        throw invalid(`Cannot code-sign s3://${o.ref.bucket}/${o.ref.key}@${o.ref.version}: ${err.message}`);
      }
      throw err;
    }
  }

  private async signOne(
    o: CodeSignOccurrence,
    profile: ProfileRow,
    jobId: string | undefined,
  ): Promise<SignatureForRef> {
    const requestedBy = jobId ? this.ctx.arns.job(jobId) : 'fleetjobs';
    const job = await this.asJobError(o, () => this.signingJobs.sign(this.request(o, profile), requestedBy));
    if (job.status !== 'Succeeded') {
      throw invalid(
        `Cannot code-sign s3://${o.ref.bucket}/${o.ref.key}@${o.ref.version}: signing job ${job.job_id} ${job.status_reason ?? 'failed'}.`,
      );
    }
    return { block: signatureBlock(job) };
  }

  /** The job's codeSigning.profileName; else the one tagged default; else the only Active profile. */
  private async chooseProfile(named: string | undefined): Promise<ProfileRow> {
    if (named !== undefined) {
      const row = await repo.findProfile(this.ctx.db, named);
      if (!row) throw invalid(`Signing profile ${named} (codeSigning.profileName) does not exist.`);
      if (row.status !== 'Active') throw invalid(`Signing profile ${named} is ${row.status} and cannot sign.`);
      return row;
    }
    const active = await repo.listProfiles(this.ctx.db, { statuses: ['Active'], limit: 1000 });
    const tagged = active.filter((p) => parseJson<Record<string, string>>(p.tags)?.[DEFAULT_PROFILE_TAG] === 'true');
    if (tagged.length === 1) return tagged[0]!;
    if (tagged.length === 0 && active.length === 1) return active[0]!;
    const why =
      active.length === 0
        ? 'there is no Active signing profile'
        : tagged.length > 1
          ? `${tagged.length} profiles are tagged ${DEFAULT_PROFILE_TAG}=true`
          : `there are ${active.length} Active signing profiles`;
    throw invalid(
      `The job document has code-sign placeholders but ${why}: name one in the job's codeSigning.profileName, or tag exactly one profile ${DEFAULT_PROFILE_TAG}=true.`,
    );
  }
}

function codeSigningOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const name = (value as CodeSigningOption).profileName;
  if (typeof value !== 'object' || Array.isArray(value) || (name !== undefined && typeof name !== 'string')) {
    throw invalid('codeSigning must be an object like {"profileName": "<signing profile>"}.');
  }
  return name;
}
