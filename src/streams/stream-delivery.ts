import type { Readable } from 'node:stream';
import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import type { ObjectMeta } from '../objects/objects.schemas.js';
import type { ObjectsService } from '../objects/objects.service.js';
import type { StreamAccess } from './stream-access.js';
import * as repo from './streams.repository.js';
import { parseFiles } from './streams.service.js';
import type { DeviceStreamAccess } from './streams.schemas.js';
import type { StoredStreamFile } from './streams.tables.js';

/**
 * GetStream limits, from the AWS IoT developer guide ("Using AWS IoT MQTT-based file delivery in
 * devices", GetStream request): "l" 256-131,072 bytes, "o" 0-98,304 blocks, "n" 0-98,304 blocks
 * (default 131072 / l), "b" less than 12,288 bytes, and at most 128 KB of blocks per request
 * ("the service limit of 128 KB per GetStream request").
 */
export const DELIVERY_LIMITS = {
  minBlockSize: 256,
  maxBlockSize: 131_072,
  maxBlockOffset: 98_304,
  maxNumberOfBlocks: 98_304,
  /** "The bitmap must be less than 12,288 bytes." */
  maxBitmapBytes: 12_287,
  maxBytesPerRequest: 131_072,
} as const;

/**
 * Blocks are read in aligned windows of 128 KiB, and the last few windows read are kept (at most
 * WINDOW_CACHE of them, 4 MiB, whatever the file sizes): devices fetching one file at once, or
 * one block per request, share a read instead of each opening the file (AWS: "optimization for
 * concurrent streaming requests when multiple devices request data blocks from the same stream
 * file"). A file is never held whole unless it is smaller than that.
 */
export const WINDOW_BYTES = 128 * 1024;
export const WINDOW_CACHE = 32;

/** How long a stream's role and file checks, and a thing's right to a stream, are reused. */
export const DEFAULT_DELIVERY_CACHE_MS = 5000;

/** A GetStream request, decoded from JSON or CBOR (protocols/mqtt/streams-payloads.ts). */
export interface GetBlocksRequest {
  streamVersion?: number;
  fileId: number;
  blockSize: number;
  blockOffset?: number;
  numberOfBlocks?: number;
  /** Bit k (byte k >> 3, bit 1 << (k % 8)) asks for block blockOffset + k. */
  bitmap?: Uint8Array;
}

export interface Block {
  fileId: number;
  blockId: number;
  data: Buffer;
}

export interface StreamDescription {
  version: number;
  description?: string;
  files: { fileId: number; size: number }[];
}

interface Plan {
  row: repo.StreamRow;
  files: Map<number, StoredStreamFile>;
  /** Set when the role may not read the files: every request answers it until the plan expires. */
  denied?: ServiceError;
  metas: Map<number, Promise<ObjectMeta>>;
  expires: number;
}

const unauthorized = (message: string): ServiceError => new ServiceError('StorageUnauthorized', message);

/** The blocks a request names, in order: consecutive from the offset, or the bitmap's set bits. */
export function selectBlocks(req: GetBlocksRequest, fileBlocks: number, max: number): number[] {
  const offset = req.blockOffset ?? 0;
  const out: number[] = [];
  if (req.bitmap) {
    for (let byte = 0; byte < req.bitmap.length && out.length < max; byte++) {
      const bits = req.bitmap[byte]!;
      if (bits === 0) continue;
      for (let bit = 0; bit < 8 && out.length < max; bit++) {
        const block = offset + byte * 8 + bit;
        if ((bits & (1 << bit)) !== 0 && block < fileBlocks) out.push(block);
      }
    }
    return out;
  }
  for (let block = offset; block < fileBlocks && out.length < max; block++) out.push(block);
  return out;
}

/**
 * MQTT-based file delivery, the service side (issue 20): which streams a thing may read, the
 * stream's description, and blocks read from the object store by range (never a whole file).
 * The role and object checks of CreateStream are made again here, reused for `cacheMs`.
 */
export class StreamDelivery {
  private readonly plans = new Map<string, Plan>();
  private readonly grants = new Map<string, number>();
  /** blobId/window -> its bytes (insertion order = age; a hit moves to the end). */
  private readonly windows = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly deps: { access: StreamAccess; objects: ObjectsService },
    private readonly options: { deviceAccess: DeviceStreamAccess; cacheMs?: number } = { deviceAccess: 'jobs' },
  ) {}

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  private get cacheMs(): number {
    return this.options.cacheMs ?? DEFAULT_DELIVERY_CACHE_MS;
  }

  /** Forgets what was checked of a stream (it was updated or deleted). */
  invalidate(streamId: string): void {
    this.plans.delete(streamId);
  }

  /**
   * A device may read a stream that a job it has a pending execution of names in
   * afr_ota.streamname (spec 6.5: the FreeRTOS OTA job document), unless the operator opened
   * streams to every device (--device-streams any). Not AWS's rule (AWS asks only the device's
   * IoT policy, per topic); ours, so one device cannot fetch another fleet's firmware.
   */
  private async authorize(thingName: string, streamId: string): Promise<void> {
    if (this.options.deviceAccess === 'any') return;
    const key = `${thingName}\n${streamId}`;
    const until = this.grants.get(key);
    if (until !== undefined && until > this.now()) return;
    for (const text of await repo.pendingJobDocuments(this.ctx.db, thingName)) {
      if (streamOfDocument(text) === streamId) {
        if (this.grants.size > 100_000) this.grants.clear();
        this.grants.set(key, this.now() + this.cacheMs);
        return;
      }
    }
    throw new ServiceError(
      'ResourceNotFound',
      `No stream ${streamId} for thing ${thingName}: it does not exist, or no pending job execution of the thing names it (afr_ota.streamname).`,
    );
  }

  private async plan(streamId: string): Promise<Plan> {
    const cached = this.plans.get(streamId);
    if (cached && cached.expires > this.now()) return cached;
    const row = await repo.findStream(this.ctx.db, streamId);
    if (!row) throw new ServiceError('ResourceNotFound', `Stream ${streamId} does not exist.`);
    const files = parseFiles(row);
    const plan: Plan = {
      row,
      files: new Map(files.map((f) => [f.fileId, f])),
      metas: new Map(),
      expires: this.now() + this.cacheMs,
    };
    try {
      await this.deps.access.checkRole(streamId, row.role_arn, files, unauthorized);
    } catch (err) {
      if (!(err instanceof ServiceError)) throw err;
      plan.denied = err;
    }
    if (this.plans.size > 10_000) this.plans.clear();
    this.plans.set(streamId, plan);
    return plan;
  }

  /** The object version a file is served from; its ETag must still be the one recorded. */
  private meta(plan: Plan, file: StoredStreamFile): Promise<ObjectMeta> {
    let meta = plan.metas.get(file.fileId);
    if (!meta) {
      meta = this.resolveFile(file);
      // A failure is not kept: the next request looks again.
      meta.catch(() => plan.metas.delete(file.fileId));
      plan.metas.set(file.fileId, meta);
    }
    return meta;
  }

  private async resolveFile(file: StoredStreamFile): Promise<ObjectMeta> {
    const meta = await this.deps.access.resolve(
      { fileId: file.fileId, bucket: file.bucket, key: file.key, ...(file.version && { version: file.version }) },
      (message) => new ServiceError('ResourceNotFound', message),
    );
    if (meta.etag !== file.etag) {
      throw new ServiceError(
        'ETagMismatch',
        `File ${file.fileId} (s3://${file.bucket}/${file.key}) changed since the stream was made: ETag ${meta.etag}, the stream recorded ${file.etag}. Update the stream.`,
      );
    }
    return meta;
  }

  async describe(thingName: string, streamId: string): Promise<StreamDescription> {
    await this.authorize(thingName, streamId);
    const plan = await this.plan(streamId);
    if (plan.denied) throw plan.denied;
    return {
      version: plan.row.version,
      ...(plan.row.description !== null && { description: plan.row.description }),
      files: [...plan.files.values()].map((f) => ({ fileId: f.fileId, size: f.size })),
    };
  }

  /**
   * Checks a GetStream request and yields its blocks (at most 128 KiB of them), read by range
   * from the object store (in windows, see WINDOW_BYTES): never a whole file at once.
   */
  async getBlocks(thingName: string, streamId: string, req: GetBlocksRequest): Promise<AsyncIterable<Block>> {
    await this.authorize(thingName, streamId);
    const plan = await this.plan(streamId);
    const L = DELIVERY_LIMITS;
    if (req.streamVersion !== undefined && req.streamVersion !== plan.row.version) {
      throw new ServiceError(
        'VersionConflict',
        `Stream ${streamId} is at version ${plan.row.version}, not ${req.streamVersion}.`,
      );
    }
    if (req.blockSize < L.minBlockSize || req.blockSize > L.maxBlockSize) {
      throw new ServiceError(
        'BlockSizeOutOfBounds',
        `The block size ${req.blockSize} is out of bounds (${L.minBlockSize}-${L.maxBlockSize} bytes).`,
      );
    }
    const offset = req.blockOffset ?? 0;
    if (offset < 0 || offset > L.maxBlockOffset) {
      throw new ServiceError(
        'OffsetOutOfBounds',
        `The block offset ${offset} is out of bounds (0-${L.maxBlockOffset}).`,
      );
    }
    if (req.numberOfBlocks !== undefined && (req.numberOfBlocks < 0 || req.numberOfBlocks > L.maxNumberOfBlocks)) {
      throw new ServiceError(
        'BlockCountLimitExceeded',
        `The number of blocks ${req.numberOfBlocks} is out of bounds (0-${L.maxNumberOfBlocks}).`,
      );
    }
    if (req.bitmap && req.bitmap.length > L.maxBitmapBytes) {
      throw new ServiceError(
        'BlockBitmapLimitExceeded',
        `The block bitmap has ${req.bitmap.length} bytes; it must be less than ${L.maxBitmapBytes + 1}.`,
      );
    }
    const file = plan.files.get(req.fileId);
    if (!file) throw new ServiceError('ResourceNotFound', `Stream ${streamId} has no file ${req.fileId}.`);
    if (plan.denied) throw plan.denied;
    const fileBlocks = Math.ceil(file.size / req.blockSize);
    if (offset >= fileBlocks) {
      throw new ServiceError(
        'OffsetOutOfBounds',
        `Block ${offset} is past the end of file ${req.fileId} (${file.size} bytes, ${fileBlocks} blocks of ${req.blockSize}).`,
      );
    }
    // "n" 0 or absent: as many as fit in one response (131072 / l); never more than 128 KiB.
    const perRequest = Math.floor(L.maxBytesPerRequest / req.blockSize);
    const max = Math.min(perRequest, req.numberOfBlocks || perRequest);
    const blocks = selectBlocks(req, fileBlocks, max);
    if (blocks.length === 0) {
      throw new ServiceError('InvalidRequest', `The block bitmap selects no block of file ${req.fileId}.`);
    }
    const meta = await this.meta(plan, file);
    return this.read(meta, file, req.blockSize, blocks);
  }

  private async *read(
    meta: ObjectMeta,
    file: StoredStreamFile,
    blockSize: number,
    blocks: number[],
  ): AsyncIterable<Block> {
    for (const b of blocks) {
      const start = b * blockSize;
      const end = Math.min(start + blockSize, file.size);
      yield { fileId: file.fileId, blockId: b, data: await this.bytes(meta, start, end) };
    }
  }

  /** Bytes [start, end) of an object version, from its windows. */
  private async bytes(meta: ObjectMeta, start: number, end: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let w = Math.floor(start / WINDOW_BYTES); w * WINDOW_BYTES < end; w++) {
      const window = await this.window(meta, w);
      const from = Math.max(start - w * WINDOW_BYTES, 0);
      const to = Math.min(end - w * WINDOW_BYTES, window.length);
      parts.push(window.subarray(from, to));
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** One window, read by range from the object store (one range request) or taken from the cache. */
  private window(meta: ObjectMeta, w: number): Promise<Buffer> {
    const key = `${meta.blobId!}/${w}`;
    let bytes = this.windows.get(key);
    if (bytes) {
      this.windows.delete(key);
    } else {
      const start = w * WINDOW_BYTES;
      const end = Math.min(start + WINDOW_BYTES, meta.size) - 1;
      bytes = this.deps.objects.openBody(meta, { start, end }).then((body) => collect(body, end - start + 1));
      // A failed read is not kept.
      bytes.catch(() => this.windows.delete(key));
      while (this.windows.size >= WINDOW_CACHE) this.windows.delete(this.windows.keys().next().value!);
    }
    this.windows.set(key, bytes);
    return bytes;
  }
}

/** afr_ota.streamname of a job document (spec 6.5), if it has one. */
export function streamOfDocument(text: string): string | undefined {
  if (!text.includes('streamname')) return undefined;
  try {
    const doc = JSON.parse(text) as { afr_ota?: { streamname?: unknown } };
    const name = doc?.afr_ota?.streamname;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

async function collect(stream: Readable, expected: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    chunks.push(buf);
    size += buf.length;
  }
  if (size !== expected)
    throw new ServiceError('InternalFailure', `read ${size} bytes of a block range, not ${expected}.`);
  return Buffer.concat(chunks, size);
}
