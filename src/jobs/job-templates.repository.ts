import type { Selectable } from 'kysely';
import type { Executor } from '../store/database.js';
import type { JobTemplatesTable } from './jobs.tables.js';

export type TemplateRow = Selectable<JobTemplatesTable>;

export async function findTemplate(db: Executor, id: string): Promise<TemplateRow | undefined> {
  return db.selectFrom('job_templates').selectAll().where('template_id', '=', id).executeTakeFirst();
}

export async function insertTemplate(db: Executor, row: TemplateRow): Promise<void> {
  await db.insertInto('job_templates').values(row).execute();
}

export async function deleteTemplate(db: Executor, id: string): Promise<boolean> {
  const r = await db.deleteFrom('job_templates').where('template_id', '=', id).executeTakeFirst();
  return r.numDeletedRows > 0n;
}

export async function listTemplates(db: Executor, after: string | undefined, limit: number): Promise<TemplateRow[]> {
  let q = db.selectFrom('job_templates').selectAll();
  if (after !== undefined) q = q.where('template_id', '>', after);
  return q
    .orderBy('template_id')
    .limit(limit + 1)
    .execute();
}
