import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomHex } from '../../ids.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../../store/data-dir.js';
import { BlobNotFoundError, checkBlobId, type ByteRange, type ObjectBackend } from './backend.js';

/**
 * Blobs under <data-dir>/objects/blobs/<2 hex>/<id>. A blob is written to objects/tmp, flushed to
 * disk and renamed into place, so a reader (or a crash) never sees a partial one; the path is
 * built from the content id only, so no S3 key can reach the file system. Everything is owner-only
 * (0700 dirs, 0600 files): objects may be unpublished firmware.
 */
export class DiskBackend implements ObjectBackend {
  readonly kind = 'disk';
  private readonly blobs: string;
  private readonly tmp: string;

  private constructor(root: string) {
    this.blobs = join(root, 'blobs');
    this.tmp = join(root, 'tmp');
  }

  /** Opens the store; temp files of uploads interrupted by a crash are removed. */
  static async open(root: string): Promise<DiskBackend> {
    const backend = new DiskBackend(root);
    await mkdir(backend.blobs, { recursive: true, mode: PRIVATE_DIR_MODE });
    await rm(backend.tmp, { recursive: true, force: true });
    await mkdir(backend.tmp, { recursive: true, mode: PRIVATE_DIR_MODE });
    return backend;
  }

  private path(id: string): string {
    checkBlobId(id);
    return join(this.blobs, id.slice(0, 2), id);
  }

  async put(id: string, source: Readable): Promise<{ size: number }> {
    const final = this.path(id);
    const temp = join(this.tmp, `${id}.${randomHex(4)}`);
    try {
      await pipeline(
        source,
        createWriteStream(temp, { flags: 'wx', mode: PRIVATE_FILE_MODE, highWaterMark: 1024 * 1024 }),
      );
      const handle = await open(temp, 'r');
      try {
        // An upload acknowledged to a client must survive a power cut, as database writes do.
        await handle.sync();
      } finally {
        await handle.close();
      }
      const dir = join(this.blobs, id.slice(0, 2));
      const made = await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
      await rename(temp, final);
      // The rename is only durable once the directory holding the new entry is flushed (and a
      // new fan-out directory's own entry in blobs/); without this a power cut may undo it.
      await syncDir(dir);
      if (made !== undefined) await syncDir(this.blobs);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    return { size: (await stat(final)).size };
  }

  async get(id: string, range?: ByteRange): Promise<Readable> {
    const path = this.path(id);
    const handle = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? new BlobNotFoundError(id) : err;
    });
    return createReadStream('', {
      fd: handle,
      highWaterMark: 1024 * 1024,
      ...(range && { start: range.start, end: range.end }),
    });
  }

  async delete(id: string): Promise<void> {
    await unlink(this.path(id)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  async exists(id: string): Promise<boolean> {
    return stat(this.path(id)).then(
      () => true,
      () => false,
    );
  }

  /** Number of temp files (tests check that interrupted uploads leave none). */
  async pendingTempFiles(): Promise<number> {
    return (await readdir(this.tmp)).length;
  }

  async close(): Promise<void> {}
}

async function syncDir(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
