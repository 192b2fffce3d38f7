import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store/database.js';
import { createPostgresDatabase, type TestDialect } from './postgres.js';

/** A migrated store of either dialect, for contract tests of the repositories. */
export async function openTestStore(dialect: TestDialect): Promise<Store & { dispose(): Promise<void> }> {
  if (dialect === 'postgres') {
    const pg = await createPostgresDatabase();
    const store = await openStore({ database: pg.url });
    return {
      ...store,
      dispose: async () => {
        await store.close();
        await pg.drop();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'fj-store-'));
  const store = await openStore({ database: join(dir, 'test.sqlite') });
  return {
    ...store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
