import pg from 'pg';
import { randomBytes } from 'node:crypto';

/** The admin URL of the machine's PostgreSQL; tests each make their own database. */
export const PG_ADMIN_URL = process.env.FLEETJOBS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh database on the server of `adminUrl` (the benches pass BENCH_DATABASE). */
export async function createPostgresDatabase(adminUrl = PG_ADMIN_URL): Promise<TestDatabase> {
  const PG_ADMIN_URL = adminUrl;
  const name = `fj_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export const DIALECTS = ['sqlite', 'postgres'] as const;
export type TestDialect = (typeof DIALECTS)[number];
