import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import { epochSecondsFractional } from '../clock.js';
import type { Executor } from '../store/database.js';
import { decodeToken, toPage, DEFAULT_PAGE_SIZE } from '../store/pagination.js';
import { validate } from '../validation.js';
import type { TagsService } from '../tags/tags.service.js';
import type { FileLocation, StreamAccess } from './stream-access.js';
import * as repo from './streams.repository.js';
import {
  checkCreateStream,
  checkListStreams,
  checkStreamId,
  checkUpdateStream,
  STREAM_LIMITS,
  type CreateStreamInput,
  type StreamFileInput,
  type StreamFileView,
  type UpdateStreamInput,
} from './streams.schemas.js';
import type { StoredStreamFile } from './streams.tables.js';

export const streamNotFound = (streamId: string): ServiceError =>
  new ServiceError('ResourceNotFound', `Stream ${streamId} does not exist.`);

/** Another feature's veto on DeleteStream (OTA updates using the stream: DeleteConflict), in its transaction. */
export type StreamDeleteGuard = (trx: Executor, streamId: string) => Promise<void>;
/** Told after a stream changed or went (the MQTT delivery drops what it cached of it). */
export type StreamChangeListener = (streamId: string) => void;

export const parseFiles = (row: repo.StreamRow): StoredStreamFile[] => JSON.parse(row.files) as StoredStreamFile[];

const locations = (files: readonly StreamFileInput[]): FileLocation[] =>
  files.map((f) => ({
    fileId: f.fileId!,
    bucket: f.s3Location!.bucket!,
    key: f.s3Location!.key!,
    ...(f.s3Location!.version !== undefined && { version: f.s3Location!.version }),
  }));

const fileView = (f: StoredStreamFile): StreamFileView => ({
  fileId: f.fileId,
  s3Location: { bucket: f.bucket, key: f.key, ...(f.version !== undefined && { version: f.version }) },
});

/**
 * Streams (AWS IoT CreateStream, DescribeStream, ListStreams, UpdateStream, DeleteStream; issue 20).
 * The files are objects of our store; the role must let the IoT service read them (stream-access.ts),
 * checked here (InvalidRequest, as AWS when it cannot access a file) and again at delivery.
 */
export class StreamsService {
  readonly deleteGuards: StreamDeleteGuard[] = [];
  readonly changeListeners: StreamChangeListener[] = [];

  constructor(
    private readonly ctx: ServiceContext,
    private readonly tags: TagsService,
    readonly access: StreamAccess,
  ) {}

  private changed(streamId: string): void {
    for (const listener of this.changeListeners) listener(streamId);
  }

  private async require(db: Executor, streamId: string, lock = false): Promise<repo.StreamRow> {
    const row = await repo.findStream(db, streamId, lock ? { dialect: this.ctx.dialect } : undefined);
    if (!row) throw streamNotFound(streamId);
    return row;
  }

  private summary(row: repo.StreamRow) {
    return {
      streamId: row.stream_id,
      streamArn: this.ctx.arns.stream(row.stream_id),
      ...(row.description !== null && { description: row.description }),
      streamVersion: row.version,
    };
  }

  /** CreateStream. Input is AWS's CreateStreamRequest; CreateOTAUpdate calls this too. */
  async createStream(input: CreateStreamInput) {
    checkCreateStream(input);
    // Network-free but slow-ish reads (IAM, objects) happen before the transaction.
    const files = await this.access.resolveForCreate(input.streamId, input.roleArn!, locations(input.files!));
    const now = this.ctx.clock.now().getTime();
    const row: repo.StreamRow = {
      stream_id: input.streamId,
      description: input.description ?? null,
      role_arn: input.roleArn!,
      version: 1,
      files: JSON.stringify(files),
      created_at: now,
      updated_at: now,
    };
    const arn = this.ctx.arns.stream(row.stream_id);
    const exists = () =>
      new ServiceError('ResourceAlreadyExists', `Stream ${row.stream_id} already exists.`, {
        resourceId: row.stream_id,
        resourceArn: arn,
      });
    try {
      await this.ctx.db.transaction().execute(async (trx) => {
        if (await repo.findStream(trx, row.stream_id)) throw exists();
        await repo.insertStream(trx, row);
        if (input.tags && input.tags.length > 0) await this.tags.putTags(trx, arn, input.tags);
      });
    } catch (err) {
      if (!(err instanceof ServiceError) && (await repo.findStream(this.ctx.db, row.stream_id))) throw exists();
      throw err;
    }
    this.changed(row.stream_id);
    return this.summary(row);
  }

  async describeStream(streamId: string) {
    validate((v) => checkStreamId(v, streamId));
    const row = await this.require(this.ctx.db, streamId);
    return {
      streamInfo: {
        ...this.summary(row),
        files: parseFiles(row).map(fileView),
        createdAt: epochSecondsFractional(row.created_at),
        lastUpdatedAt: epochSecondsFractional(row.updated_at),
        roleArn: row.role_arn,
      },
    };
  }

  /** ListStreams: newest first unless ascendingOrder (the model only says "ascending order"). */
  async listStreams(input: { maxResults?: number; nextToken?: string; ascendingOrder?: boolean }) {
    checkListStreams(input);
    const limit = input.maxResults ?? DEFAULT_PAGE_SIZE;
    const after = decodeToken(input.nextToken, 2);
    if (after && (typeof after[0] !== 'number' || typeof after[1] !== 'string')) {
      throw new ServiceError('InvalidRequest', 'The nextToken is not valid.');
    }
    const rows = await repo.listStreamRows(this.ctx.db, {
      limit,
      ascending: input.ascendingOrder === true,
      ...(after && { after: [after[0] as number, after[1] as string] }),
    });
    const page = toPage(rows, limit, (r) => [r.created_at, r.stream_id]);
    return {
      streams: page.items.map((r) => this.summary(r)),
      ...(page.nextToken !== undefined && { nextToken: page.nextToken }),
    };
  }

  /** UpdateStream: new files, role or description; the stream version goes up by one (AWS model). */
  async updateStream(input: UpdateStreamInput) {
    checkUpdateStream(input);
    const current = await this.require(this.ctx.db, input.streamId);
    const roleArn = input.roleArn ?? current.role_arn;
    // New files are checked as at CreateStream; a new role is checked against the files kept.
    let files: StoredStreamFile[] | undefined;
    if (input.files) files = await this.access.resolveForCreate(input.streamId, roleArn, locations(input.files));
    else if (input.roleArn !== undefined) {
      const kept = parseFiles(current).map((f) => ({
        fileId: f.fileId,
        bucket: f.bucket,
        key: f.key,
        version: f.version,
      }));
      await this.access.checkRole(input.streamId, roleArn, kept, (m) => new ServiceError('InvalidRequest', m));
    }
    const updated = await this.ctx.db.transaction().execute(async (trx) => {
      const row = await this.require(trx, input.streamId, true);
      if (row.version >= STREAM_LIMITS.versionMax) {
        throw new ServiceError('LimitExceeded', `Stream ${row.stream_id} is at version ${STREAM_LIMITS.versionMax}.`);
      }
      const next: repo.StreamRow = {
        ...row,
        description: input.description ?? row.description,
        role_arn: roleArn,
        files: files ? JSON.stringify(files) : row.files,
        version: row.version + 1,
        updated_at: this.ctx.clock.now().getTime(),
      };
      await repo.updateStreamRow(trx, row.stream_id, next);
      return next;
    });
    this.changed(updated.stream_id);
    return this.summary(updated);
  }

  async deleteStream(streamId: string): Promise<void> {
    validate((v) => checkStreamId(v, streamId));
    await this.ctx.db.transaction().execute(async (trx) => {
      await this.require(trx, streamId, true);
      for (const guard of this.deleteGuards) await guard(trx, streamId);
      await repo.deleteStreamRow(trx, streamId);
      await this.tags.deleteAllTags(trx, this.ctx.arns.stream(streamId));
    });
    this.changed(streamId);
  }

  /** For the MQTT delivery (and other features): the stored row, or undefined. */
  findStream(streamId: string): Promise<repo.StreamRow | undefined> {
    return repo.findStream(this.ctx.db, streamId);
  }
}
