import { Migrator, type Kysely, type Migration } from 'kysely';
import { migrations } from './migrations/index.js';

export async function runMigrations(db: Kysely<unknown>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async (): Promise<Record<string, Migration>> => migrations },
    // Features own number ranges (see migrations/index.ts), so a new migration of one feature may
    // sort before one already applied from another; each is still applied exactly once.
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${detail}`);
  }
}
