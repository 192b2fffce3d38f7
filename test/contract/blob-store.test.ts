import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';
import { DiskBackend } from '../../src/objects/backends/disk.backend.js';
import { BlobStore, ORPHAN_GRACE_MS } from '../../src/objects/blob-store.js';
import type { Store } from '../../src/store/database.js';
import { DIALECTS } from '../helpers/postgres.js';
import { openTestStore } from '../helpers/store.js';

/**
 * The blob life cycle (DESIGN.md rule 5): a blob not yet referenced, or no longer referenced,
 * is listed as an orphan, so a crash at any point leaks nothing the sweep does not remove.
 */
describe.each(DIALECTS)('blob store bookkeeping (%s)', (dialect) => {
  let store: Store & { dispose(): Promise<void> };
  let dir: string;
  let backend: DiskBackend;
  let blobs: BlobStore;
  const clock = new FakeClock(Date.UTC(2030, 0, 1));
  const orphans = async (): Promise<string[]> =>
    (await store.db.selectFrom('s3_orphan_blobs').select('blob_id').orderBy('blob_id').execute()).map((r) => r.blob_id);

  beforeAll(async () => {
    store = await openTestStore(dialect);
    dir = mkdtempSync(join(tmpdir(), 'fleetjobs-blobs-'));
    backend = await DiskBackend.open(dir);
    blobs = new BlobStore(store.db, backend, clock, silentLogger());
  });
  afterAll(async () => {
    await store?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a written but never adopted blob (a crash before the commit) is swept after the grace period', async () => {
    const crashed = await blobs.write(Readable.from([Buffer.from('uncommitted')]), {});
    const kept = await blobs.write(Readable.from([Buffer.from('committed')]), {});
    await store.db.transaction().execute((trx) => blobs.adopt(trx, kept.blobId));
    expect(await orphans()).toEqual([crashed.blobId]);
    expect(await blobs.sweep()).toBe(0);
    expect(await backend.exists(crashed.blobId)).toBe(true);
    clock.advance(ORPHAN_GRACE_MS + 1);
    expect(await blobs.sweep()).toBe(1);
    expect(await backend.exists(crashed.blobId)).toBe(false);
    expect(await backend.exists(kept.blobId)).toBe(true);
    expect(await orphans()).toEqual([]);
  });

  it('a released blob is listed in the transaction and removed after it', async () => {
    const blob = await blobs.write(Readable.from([Buffer.from('old version')]), {});
    await store.db.transaction().execute((trx) => blobs.adopt(trx, blob.blobId));
    const released = await store.db.transaction().execute((trx) => blobs.release(trx, [blob.blobId, null]));
    expect(released).toEqual([blob.blobId]);
    expect(await orphans()).toEqual([blob.blobId]);
    await blobs.collect(released);
    expect(await backend.exists(blob.blobId)).toBe(false);
    expect(await orphans()).toEqual([]);
  });

  it('a rolled-back release keeps the blob referenced and unlisted', async () => {
    const blob = await blobs.write(Readable.from([Buffer.from('stays')]), {});
    await store.db.transaction().execute((trx) => blobs.adopt(trx, blob.blobId));
    await expect(
      store.db.transaction().execute(async (trx) => {
        await blobs.release(trx, [blob.blobId]);
        throw new Error('the deleting transaction failed');
      }),
    ).rejects.toThrow('the deleting transaction failed');
    expect(await orphans()).toEqual([]);
    expect(await backend.exists(blob.blobId)).toBe(true);
  });

  it('a failed write leaves neither a blob nor an orphan row', async () => {
    const failing = Readable.from(
      (async function* () {
        yield Buffer.from('partial');
        throw new Error('client went away');
      })(),
    );
    await expect(blobs.write(failing, {})).rejects.toThrow('client went away');
    expect(await orphans()).toEqual([]);
    expect(await backend.pendingTempFiles()).toBe(0);
  });
});
