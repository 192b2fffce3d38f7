import type { ServiceContext } from '../context.js';
import { findPlaceholders, type S3ObjectRef } from '../documents/placeholders.js';
import { ServiceError } from '../errors.js';
import { newUuid } from '../ids.js';
import type { JobRow } from '../jobs/jobs.repository.js';
import type { ObjectMeta } from '../objects/objects.schemas.js';
import { enqueuePublish } from '../store/outbox.js';
import { sha256Stream } from './signing-crypto.js';
import type { SigningObjectStore } from './signing-objects.js';
import * as repo from './signing.repository.js';
import { FREERTOS_SIGNATURE_KEYS } from './verify.js';

/** Where a refused delivery is announced (fleetjobs extension; AWS has no such event). */
export const SIGNATURE_MISMATCH_TOPIC = 'fleetjobs/events/signature-mismatch';

/** One presigned URL of a document whose object a signature in the same document covers. */
interface Covered {
  bucket: string;
  key: string;
  /** The version the URL pins; undefined means the URL serves the latest version. */
  urlVersion?: string;
  signingJobId: string;
  signedVersion: string;
  sha256: string;
}

interface Digest {
  sha256: string;
  at: number;
}

const PLAN_CACHE = 1000;
const DIGEST_CACHE = 10_000;
/** A blob's digest is trusted this long, then read again (catches bytes changed behind S3's back). */
export const DIGEST_TTL_MS = 10 * 60_000;
/** One event per job and object in this time, however many devices are refused. */
const EVENT_EVERY_MS = 60_000;

/**
 * fleetjobs, beyond AWS (issue 7 item 3): before a device receives a document that hands out a
 * presigned URL for a file the document also carries a signature of, check that the object the
 * URL serves still has the digest that was signed. If not, the document is withheld with a clear
 * rejection and an event on SIGNATURE_MISMATCH_TOPIC, instead of sending devices to a file that
 * their signature check would reject (or that they do not check at all).
 */
export class SignatureGuard {
  private readonly plans = new Map<string, Covered[]>();
  private readonly digests = new Map<string, Digest>();
  private readonly hashing = new Map<string, Promise<string>>();
  private readonly announced = new Map<string, number>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly objects: () => SigningObjectStore,
  ) {}

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  /** The jobs feature's DocumentCheck: throws to withhold the document. */
  readonly check = async (job: JobRow, thingName: string): Promise<void> => {
    for (const c of await this.plan(job)) {
      const problem = await this.problemWith(c);
      if (problem) await this.refuse(job, thingName, c, problem);
    }
  };

  /** Documents do not change after CreateJob, so what to check is worked out once per job. */
  private async plan(job: JobRow): Promise<Covered[]> {
    const id = `${job.job_id}\n${job.created_at}`;
    const cached = this.plans.get(id);
    if (cached) return cached;
    const covered = await this.coveredRefs(job.document);
    remember(this.plans, id, covered, PLAN_CACHE);
    return covered;
  }

  private async coveredRefs(document: string): Promise<Covered[]> {
    const signatures = signaturesIn(document);
    if (signatures.length === 0) return [];
    const jobs = await repo.jobsBySignature(this.ctx.db, signatures);
    const out: Covered[] = [];
    for (const ref of presignedObjects(document)) {
      const signed = jobs.find((j) => j.source_bucket === ref.bucket && j.source_key === ref.key);
      if (!signed?.payload_sha256) continue;
      out.push({
        bucket: ref.bucket,
        key: ref.key,
        ...(ref.versionId !== undefined && { urlVersion: ref.versionId }),
        signingJobId: signed.job_id,
        signedVersion: signed.source_version,
        sha256: signed.payload_sha256,
      });
    }
    return out;
  }

  private async problemWith(c: Covered): Promise<string | undefined> {
    const objects = this.objects();
    let meta: ObjectMeta;
    try {
      meta = await objects.resolve(c.bucket, c.key, c.urlVersion);
    } catch (err) {
      if (err instanceof ServiceError) return `the object is gone (${err.message})`;
      throw err;
    }
    if (meta.blobId === null) return 'the object is a delete marker';
    const actual = await this.digestOf(meta);
    if (actual === c.sha256) return undefined;
    const version = meta.versionId === c.signedVersion ? 'the signed version' : `version ${meta.versionId}`;
    return `${version} has SHA-256 ${actual}, but version ${c.signedVersion} was signed with SHA-256 ${c.sha256}`;
  }

  /** A blob's bytes never change through the API, so its digest is cached (for DIGEST_TTL_MS). */
  private async digestOf(meta: ObjectMeta): Promise<string> {
    const id = `${meta.blobId}\n${meta.etag}\n${meta.size}`;
    const known = this.digests.get(id);
    if (known && this.now() - known.at < DIGEST_TTL_MS) return known.sha256;
    let running = this.hashing.get(id);
    if (!running) {
      running = (async () => (await sha256Stream(await this.objects().openBody(meta))).sha256)();
      this.hashing.set(id, running);
    }
    try {
      const sha256 = await running;
      remember(this.digests, id, { sha256, at: this.now() }, DIGEST_CACHE);
      return sha256;
    } finally {
      this.hashing.delete(id);
    }
  }

  private async refuse(job: JobRow, thingName: string, c: Covered, problem: string): Promise<never> {
    const where = `s3://${c.bucket}/${c.key}${c.urlVersion !== undefined ? `?versionId=${c.urlVersion}` : ''}`;
    const message = `Job ${job.job_id}: the document is withheld because ${where} no longer matches its code signature (signing job ${c.signingJobId}): ${problem}.`;
    const now = this.now();
    const eventKey = `${job.job_id}\n${where}`;
    const last = this.announced.get(eventKey);
    if (last === undefined || now - last >= EVENT_EVERY_MS) {
      remember(this.announced, eventKey, now, PLAN_CACHE);
      this.ctx.logger.warn({ jobId: job.job_id, thingName, object: where, signingJobId: c.signingJobId }, message);
      await enqueuePublish(
        this.ctx.db,
        SIGNATURE_MISMATCH_TOPIC,
        {
          eventType: 'SIGNATURE_MISMATCH',
          eventId: newUuid(),
          timestamp: Math.floor(now / 1000),
          jobId: job.job_id,
          thingName,
          object: { bucket: c.bucket, key: c.key, ...(c.urlVersion !== undefined && { versionId: c.urlVersion }) },
          signedVersion: c.signedVersion,
          signingJobId: c.signingJobId,
          expectedSha256: c.sha256,
          reason: problem,
        },
        now,
      );
    }
    throw new ServiceError('InvalidRequest', message);
  }
}

/** The objects the renderer (src/documents) presigns; a malformed document is the renderer's to refuse. */
function presignedObjects(document: string): S3ObjectRef[] {
  try {
    return findPlaceholders(document).map((p) => p.ref);
  } catch {
    return [];
  }
}

/** Signatures a document carries: spec 6.4 blocks (`signature` members) and FreeRTOS `sig-*` values. */
export function signaturesIn(document: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    return [];
  }
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v === null || typeof v !== 'object') return;
    for (const [k, member] of Object.entries(v as Record<string, unknown>)) {
      if (typeof member === 'string' && (k === 'signature' || FREERTOS_SIGNATURE_KEYS.includes(k))) out.add(member);
      else walk(member);
    }
  };
  walk(parsed);
  return [...out];
}

function remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value!);
}
