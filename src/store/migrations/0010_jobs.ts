import { sql, type Kysely } from 'kysely';
import { autoIncrementColumn } from '../dialect.js';

const COUNTERS = [
  'n_queued',
  'n_in_progress',
  'n_succeeded',
  'n_failed',
  'n_timed_out',
  'n_rejected',
  'n_removed',
  'n_canceled',
] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  let jobs = db.schema
    .createTable('jobs')
    .addColumn('job_id', 'text', (c) => c.primaryKey())
    .addColumn('namespace_id', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('target_selection', 'text', (c) => c.notNull())
    .addColumn('targets', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('document', 'text', (c) => c.notNull())
    .addColumn('document_before_substitution', 'text')
    .addColumn('document_source', 'text')
    .addColumn('document_parameters', 'text')
    .addColumn('job_template_arn', 'text')
    .addColumn('presigned_url_config', 'text')
    .addColumn('rollout_config', 'text')
    .addColumn('abort_config', 'text')
    .addColumn('timeout_config', 'text')
    .addColumn('retry_config', 'text')
    .addColumn('scheduling_config', 'text')
    .addColumn('staged_rollout', 'text')
    .addColumn('destination_package_versions', 'text')
    .addColumn('force_canceled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reason_code', 'text')
    .addColumn('comment', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_updated_at', 'bigint', (c) => c.notNull())
    .addColumn('completed_at', 'bigint');
  for (const n of COUNTERS) jobs = jobs.addColumn(n, 'bigint', (c) => c.notNull().defaultTo(0));
  await jobs.execute();
  // ListJobs pages newest first; the status filter and the deletion limit use the second index.
  await db.schema.createIndex('jobs_created').on('jobs').columns(['created_at', 'job_id']).execute();
  await db.schema.createIndex('jobs_status').on('jobs').columns(['status', 'created_at']).execute();

  await db.schema
    .createTable('job_targets')
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('arn', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('job_targets_pk', ['job_id', 'arn'])
    .execute();
  await db.schema.createIndex('job_targets_by_name').on('job_targets').columns(['kind', 'name', 'job_id']).execute();

  const id = autoIncrementColumn(db);
  await db.schema
    .createTable('job_executions')
    .addColumn('id', id.type, id.build)
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('thing_name', 'text', (c) => c.notNull())
    .addColumn('execution_number', 'bigint', (c) => c.notNull())
    .addColumn('namespace_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_details', 'text')
    .addColumn('force_canceled', 'integer', (c) => c.notNull())
    .addColumn('version_number', 'bigint', (c) => c.notNull())
    .addColumn('retry_attempt', 'integer', (c) => c.notNull())
    .addColumn('queued_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('last_updated_at', 'bigint', (c) => c.notNull())
    .addColumn('in_progress_deadline', 'bigint')
    .addColumn('step_deadline', 'bigint')
    .addColumn('timeout_at', 'bigint')
    .execute();
  // ListJobExecutionsForJob pages by thing; one execution number per (job, thing) attempt.
  await db.schema
    .createIndex('job_executions_job_thing')
    .on('job_executions')
    .columns(['job_id', 'thing_name', 'execution_number'])
    .unique()
    .execute();
  // Status-filtered listing, CancelJob's bulk update, and the per-job pending scans.
  await db.schema
    .createIndex('job_executions_job_status')
    .on('job_executions')
    .columns(['job_id', 'status', 'thing_name', 'execution_number'])
    .execute();
  // A thing's executions in creation order: the pending list (spec 4.1) and ListJobExecutionsForThing.
  await db.schema.createIndex('job_executions_thing').on('job_executions').columns(['thing_name', 'id']).execute();
  // The scheduler's timeout scan; partial, so the QUEUED masses of a fan-out cost nothing here.
  await db.schema
    .createIndex('job_executions_timeout')
    .on('job_executions')
    .column('timeout_at')
    .where(sql.ref('timeout_at'), 'is not', null)
    .execute();

  await db.schema
    .createTable('job_templates')
    .addColumn('template_id', 'text', (c) => c.primaryKey())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('document', 'text')
    .addColumn('document_source', 'text')
    .addColumn('presigned_url_config', 'text')
    .addColumn('rollout_config', 'text')
    .addColumn('abort_config', 'text')
    .addColumn('timeout_config', 'text')
    .addColumn('retry_config', 'text')
    .addColumn('maintenance_windows', 'text')
    .addColumn('destination_package_versions', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['job_templates', 'job_executions', 'job_targets', 'jobs']) {
    await db.schema.dropTable(t).execute();
  }
}
