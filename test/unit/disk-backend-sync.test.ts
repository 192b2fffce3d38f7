import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type * as FsPromises from 'node:fs/promises';
import { afterAll, describe, expect, it, vi } from 'vitest';

// Records which paths were fsynced, on top of the real file system.
const synced: string[] = [];
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof FsPromises>();
  return {
    ...real,
    open: async (...args: Parameters<typeof real.open>) => {
      const handle = await real.open(...args);
      const sync = handle.sync.bind(handle);
      handle.sync = async () => {
        synced.push(String(args[0]));
        return sync();
      };
      return handle;
    },
  };
});

const { DiskBackend } = await import('../../src/objects/backends/disk.backend.js');

// Issue 14 item 9: a rename is durable only once its directory is flushed.
describe('disk blobs survive a power cut', () => {
  const root = mkdtempSync(join(tmpdir(), 'fj-blobs-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('fsyncs the blob, then the directory it was renamed into (and a new fan-out dir its parent)', async () => {
    const backend = await DiskBackend.open(root);
    const id = 'ab'.padEnd(32, '0');
    await backend.put(id, Readable.from([Buffer.from('firmware')]));
    const dir = join(root, 'blobs', 'ab');
    expect(synced).toEqual([expect.stringContaining(join(root, 'tmp')), dir, join(root, 'blobs')]);
    expect((statSync(join(dir, id)).mode & 0o777).toString(8)).toBe('600');
    synced.length = 0;
    await backend.put('ab'.padEnd(32, '1'), Readable.from([Buffer.from('again')]));
    expect(synced.slice(1)).toEqual([dir]);
  });
});
