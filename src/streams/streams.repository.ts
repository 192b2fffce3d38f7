import { PENDING_STATUSES } from '../jobs/execution-states.js';
import type { Dialect, Executor } from '../store/database.js';
import type { StreamsTable } from './streams.tables.js';

export type StreamRow = StreamsTable;

export async function findStream(
  db: Executor,
  streamId: string,
  lock?: { dialect: Dialect },
): Promise<StreamRow | undefined> {
  return db
    .selectFrom('streams')
    .selectAll()
    .where('stream_id', '=', streamId)
    .$if(lock?.dialect === 'postgres', (q) => q.forUpdate())
    .executeTakeFirst();
}

export async function insertStream(db: Executor, row: StreamRow): Promise<void> {
  await db.insertInto('streams').values(row).execute();
}

export async function updateStreamRow(
  db: Executor,
  streamId: string,
  changes: Pick<StreamRow, 'description' | 'role_arn' | 'files' | 'version' | 'updated_at'>,
): Promise<void> {
  await db.updateTable('streams').set(changes).where('stream_id', '=', streamId).execute();
}

export async function deleteStreamRow(db: Executor, streamId: string): Promise<void> {
  await db.deleteFrom('streams').where('stream_id', '=', streamId).execute();
}

/** One page (limit + 1 rows) by creation time, keyset after (created_at, stream_id). */
export async function listStreamRows(
  db: Executor,
  f: { limit: number; ascending: boolean; after?: [number, string] },
): Promise<StreamRow[]> {
  let q = db.selectFrom('streams').selectAll();
  if (f.after) {
    const [at, id] = f.after;
    const cmp = f.ascending ? '>' : '<';
    q = q.where((eb) =>
      eb.or([eb('created_at', cmp, at), eb.and([eb('created_at', '=', at), eb('stream_id', cmp, id)])]),
    );
  }
  const dir = f.ascending ? 'asc' : 'desc';
  return q
    .orderBy('created_at', dir)
    .orderBy('stream_id', dir)
    .limit(f.limit + 1)
    .execute();
}

/**
 * The documents of the jobs a thing has a pending (QUEUED or IN_PROGRESS) execution of that may
 * name a stream (the text mentions `streamname`; the caller parses them).
 */
export async function pendingJobDocuments(db: Executor, thingName: string): Promise<string[]> {
  const rows = await db
    .selectFrom('job_executions')
    .innerJoin('jobs', 'jobs.job_id', 'job_executions.job_id')
    .select('jobs.document')
    .where('job_executions.thing_name', '=', thingName)
    .where('job_executions.status', 'in', PENDING_STATUSES)
    .where('jobs.document', 'like', '%streamname%')
    .limit(100)
    .execute();
  return rows.map((r) => r.document);
}
