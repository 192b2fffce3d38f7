/**
 * Marks a raw statement whose result rows are executions that entered `status`, one row each,
 * so the metrics plugin counts them (fleetjobs_job_execution_status_changes_total) as it counts
 * the built UPDATEs of job_executions it can read (src/metrics/instrument.ts).
 */
export const COUNTS_STATUS_CHANGES = '/* fleetjobs: execution status changes */';
