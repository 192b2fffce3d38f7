import { createHmac } from 'node:crypto';
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { secureDataDir } from '../../src/store/data-dir.js';
import { DIALECTS } from '../helpers/postgres.js';
import { s3Client } from '../helpers/s3.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

// Issue 14 item 1: the data dir, the database and the blobs are private to the server's user, and
// the role-session key is sealed in the database.
describe('private data at rest', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
  });

  it('makes the data dir 0700 and the database, its WAL and the blobs 0600', async () => {
    const t = await startTestServer();
    servers.push(t);
    const s3 = s3Client(t);
    await s3.send(new CreateBucketCommand({ Bucket: 'private' }));
    await s3.send(new PutObjectCommand({ Bucket: 'private', Key: 'fw.bin', Body: Buffer.from('secret firmware') }));
    const d = t.dataDir;
    expect(modeOf(d)).toBe('700');
    for (const f of ['fleetjobs.sqlite', 'fleetjobs.sqlite-wal', 'fleetjobs.sqlite-shm', 'endpoints.json']) {
      expect([f, modeOf(join(d, f))]).toEqual([f, '600']);
    }
    for (const dir of ['objects', 'objects/blobs', 'objects/tmp', 'ca']) {
      expect([dir, modeOf(join(d, dir))]).toEqual([dir, '700']);
    }
    const blobs = join(d, 'objects', 'blobs');
    const { readdirSync } = await import('node:fs');
    const fanout = readdirSync(blobs);
    expect(fanout.length).toBeGreaterThan(0);
    for (const sub of fanout) {
      expect(modeOf(join(blobs, sub))).toBe('700');
      for (const blob of readdirSync(join(blobs, sub))) expect(modeOf(join(blobs, sub, blob))).toBe('600');
    }
  });

  it('tightens a data dir left open by an older version, and says so', async () => {
    const t = await startTestServer();
    servers.push(t);
    await t.server.stop();
    chmodSync(t.dataDir, 0o755);
    chmodSync(join(t.dataDir, 'fleetjobs.sqlite'), 0o644);
    chmodSync(join(t.dataDir, 'objects'), 0o755);
    writeFileSync(join(t.dataDir, 'notes.txt'), 'x', { mode: 0o644 });
    const warnings: string[] = [];
    secureDataDir(t.dataDir, (m) => warnings.push(m));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/readable by other users/);
    expect(warnings[0]).toContain('fleetjobs.sqlite (was 0644)');
    expect(modeOf(t.dataDir)).toBe('700');
    expect(modeOf(join(t.dataDir, 'fleetjobs.sqlite'))).toBe('600');
    expect(modeOf(join(t.dataDir, 'objects'))).toBe('700');
    expect(modeOf(join(t.dataDir, 'notes.txt'))).toBe('600');
    // A private dir is left alone, silently.
    secureDataDir(t.dataDir, (m) => warnings.push(m));
    expect(warnings).toHaveLength(1);
  });

  describe.each(DIALECTS)('role-session key (%s)', (dialect) => {
    const role = { roleArn: 'arn:aws:iam::000000000000:role/r', roleName: 'r', sessionName: 's' };
    const storedKey = async (t: TestServer): Promise<string | undefined> =>
      (
        await t.server.store.db
          .selectFrom('iam_server_keys')
          .select('secret')
          .where('name', '=', 'role-sessions')
          .executeTakeFirst()
      )?.secret;

    it('is stored sealed, never in clear', async () => {
      const t = await startTestServer({ dialect });
      servers.push(t);
      const creds = await t.server.services.iam.sessions.issue(role, 900);
      const stored = (await storedKey(t))!;
      expect(stored).toMatch(/^v1:[0-9a-f]{16}:/);
      // The stored value alone does not mint the secrets handed out.
      const naive = createHmac('sha256', Buffer.from(stored, 'base64'))
        .update(`secret\n${creds.accessKeyId}`)
        .digest('base64');
      expect(naive.slice(0, 40)).not.toBe(creds.secretAccessKey);
      expect((await t.server.services.iam.sessions.lookup(creds.accessKeyId))?.secretAccessKey).toBe(
        creds.secretAccessKey,
      );
    });

    it('seals a key kept in clear by an older version, keeping credentials already issued valid', async () => {
      const t = await startTestServer({ dialect });
      servers.push(t);
      const clear = Buffer.alloc(32, 7).toString('base64');
      await t.server.store.db
        .insertInto('iam_server_keys')
        .values({ name: 'role-sessions', secret: clear, created_at: 0 })
        .execute();
      const creds = await t.server.services.iam.sessions.issue(role, 900);
      const expected = createHmac('sha256', Buffer.from(clear, 'base64'))
        .update(`secret\n${creds.accessKeyId}`)
        .digest('base64')
        .slice(0, 40);
      expect(creds.secretAccessKey).toBe(expected);
      expect(await storedKey(t)).toMatch(/^v1:/);
    });
  });

  it('keeps the sealed key across a restart (sqlite)', async () => {
    const t = await startTestServer();
    servers.push(t);
    const creds = await t.server.services.iam.sessions.issue(
      { roleArn: 'arn:aws:iam::000000000000:role/r', roleName: 'r', sessionName: 's' },
      900,
    );
    await t.server.stop();
    const again = await startTestServer({ flags: { dataDir: t.dataDir } });
    servers.push(again);
    expect((await again.server.services.iam.sessions.lookup(creds.accessKeyId))?.secretAccessKey).toBe(
      creds.secretAccessKey,
    );
  });
});
