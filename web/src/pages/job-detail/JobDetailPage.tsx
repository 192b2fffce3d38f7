import { useEffect, useState } from 'react';
import { enc } from '../../api/client';
import { nameOf, when, type Job } from '../../api/types';
import { useApi } from '../../api/use-api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Loading } from '../../components/Loading';
import { ProgressBar } from '../../components/ProgressBar';
import { StateChart } from '../../components/StateChart';
import { StatusBadge } from '../../components/StatusBadge';
import { href, navigate } from '../../router';
import { CancelJobDialog } from './CancelJobDialog';
import { CountersPanel } from './CountersPanel';
import { DeleteJobDialog } from './DeleteJobDialog';
import { DevicePreview } from './DevicePreview';
import { ExecutionsTable } from './ExecutionsTable';
import { JobConfiguration } from './JobConfiguration';
import { useJobEvents } from './useJobEvents';

/** One job: live counters and chart, executions, the device's view of the document, cancel and delete. */
export function JobDetailPage({ jobId }: { jobId: string }) {
  const { data, error, reload } = useApi<{ job: Job; documentSource?: string }>(`/jobs/${enc(jobId)}`);
  const live = useJobEvents(jobId);
  const [dialog, setDialog] = useState<'cancel' | 'delete'>();
  const status = live.latest?.status ?? data?.job.status;
  const refreshKey = JSON.stringify(live.latest?.jobProcessDetails ?? {}) + (status ?? '');
  // The status changed (canceled, completed): read the job again for reason, comment, times.
  useEffect(reload, [status, reload]);

  if (error && !data) {
    return (
      <section>
        <h1>Job {jobId}</h1>
        <ErrorMessage error={error} />
        <a href={href('/jobs')}>Back to the jobs</a>
      </section>
    );
  }
  if (!data) return <Loading what={`job ${jobId}`} />;
  const job = data.job;
  const counters = live.latest?.jobProcessDetails ?? job.jobProcessDetails;
  const canCancel = status === 'IN_PROGRESS' || status === 'SCHEDULED' || (status === 'CANCELED' && !job.forceCanceled);

  return (
    <section aria-labelledby="job-title">
      <nav className="crumbs" aria-label="Breadcrumb">
        <a href={href('/jobs')}>Jobs</a> / <span>{jobId}</span>
      </nav>
      <div className="page-head">
        <h1 id="job-title">
          {jobId} {status && <StatusBadge status={status} />}
        </h1>
        <div className="actions">
          <button type="button" onClick={() => setDialog('cancel')} disabled={!canCancel}>
            Cancel job…
          </button>
          <button type="button" className="danger" onClick={() => setDialog('delete')} disabled={live.deleted}>
            Delete job…
          </button>
        </div>
      </div>
      {live.deleted && (
        <p className="notice" role="status">
          This job has been deleted. <a href={href('/jobs')}>Back to the jobs</a>
        </p>
      )}
      {job.description && <p>{job.description}</p>}
      <dl className="pairs summary">
        <dt>Type</dt>
        <dd>{job.targetSelection}</dd>
        <dt>Created</dt>
        <dd>{when(job.createdAt)}</dd>
        {job.completedAt !== undefined && (
          <>
            <dt>Ended</dt>
            <dd>{when(job.completedAt)}</dd>
          </>
        )}
        <dt>Targets</dt>
        <dd>{job.targets.map((t) => nameOf(t)).join(', ')}</dd>
        {job.reasonCode && (
          <>
            <dt>Reason</dt>
            <dd>
              {job.reasonCode}
              {job.forceCanceled ? ' (forced)' : ''}
            </dd>
          </>
        )}
        {job.comment && (
          <>
            <dt>Comment</dt>
            <dd>{job.comment}</dd>
          </>
        )}
      </dl>
      <h2>
        Things <span className={`live ${live.connected ? 'on' : 'off'}`}>{live.connected ? 'live' : 'not live'}</span>
      </h2>
      <ProgressBar counters={counters} label={`Job ${jobId}`} />
      <CountersPanel counters={counters} attempts={live.latest?.attemptDetails ?? job.attemptDetails} />
      <StateChart history={live.history} />
      <ExecutionsTable jobId={jobId} refreshKey={refreshKey} />
      <DevicePreview jobId={jobId} />
      <JobConfiguration jobId={jobId} job={job} documentSource={data.documentSource} />
      <CancelJobDialog
        jobId={jobId}
        open={dialog === 'cancel'}
        onClose={() => setDialog(undefined)}
        onDone={() => {
          setDialog(undefined);
          reload();
        }}
      />
      <DeleteJobDialog
        jobId={jobId}
        status={status ?? ''}
        open={dialog === 'delete'}
        onClose={() => setDialog(undefined)}
        onDone={() => {
          setDialog(undefined);
          navigate('/jobs');
        }}
      />
    </section>
  );
}
