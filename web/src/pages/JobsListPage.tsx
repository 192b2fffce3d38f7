import { useEffect, useState } from 'react';
import { qs } from '../api/client';
import { JOB_STATUSES, when, type JobSummary, type Page } from '../api/types';
import { useApi } from '../api/use-api';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loading } from '../components/Loading';
import { Pager, usePager } from '../components/Pager';
import { ProgressBar } from '../components/ProgressBar';
import { StatusBadge } from '../components/StatusBadge';
import { useDebounced } from '../components/useDebounced';
import { href } from '../router';

/** All jobs, newest first: status filter, id search, progress of each. */
export function JobsListPage() {
  const [status, setStatus] = useState('');
  const [search, setSearch] = useState('');
  const settled = useDebounced(search.trim());
  const pager = usePager();
  const { reset } = pager;
  useEffect(reset, [status, settled, reset]);
  const { data, error, loading } = useApi<{ jobs: JobSummary[] } & Page>(
    `/jobs${qs({ status, search: settled, nextToken: pager.token, maxResults: 25 })}`,
  );

  return (
    <section aria-labelledby="jobs-title">
      <div className="page-head">
        <h1 id="jobs-title">Jobs</h1>
        <a className="button primary" href={href('/jobs/new')}>
          Create job
        </a>
      </div>
      <div className="toolbar">
        <fieldset className="filters">
          <legend>Status</legend>
          {['', ...JOB_STATUSES].map((s) => (
            <label key={s || 'all'} className="chip">
              <input type="radio" name="job-status" checked={status === s} onChange={() => setStatus(s)} />
              {s === '' ? 'All' : s.replace(/_/g, ' ')}
            </label>
          ))}
        </fieldset>
        <label className="search">
          <span>Search job ids</span>
          <input
            type="search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            placeholder="e.g. firmware-2"
          />
        </label>
      </div>
      <ErrorMessage error={error} />
      {loading && !data ? (
        <Loading what="jobs" />
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Jobs</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Status</th>
                <th scope="col" className="col-wide">
                  Type
                </th>
                <th scope="col">Progress</th>
                <th scope="col" className="col-wide">
                  Created
                </th>
              </tr>
            </thead>
            <tbody>
              {data?.jobs.length === 0 && (
                <tr>
                  <td colSpan={5} className="muted">
                    No jobs{status || settled ? ' match' : ' yet'}.
                  </td>
                </tr>
              )}
              {data?.jobs.map((j) => (
                <tr key={j.jobId}>
                  <td>
                    <a href={href(`/jobs/${encodeURIComponent(j.jobId)}`)}>{j.jobId}</a>
                    {j.description && <div className="muted small">{j.description}</div>}
                  </td>
                  <td>
                    <StatusBadge status={j.status} />
                  </td>
                  <td className="col-wide">{j.targetSelection}</td>
                  <td className="progress-cell">
                    <ProgressBar counters={j.jobProcessDetails} label={`Job ${j.jobId}`} />
                    {(j.attemptDetails?.numberOfRetryAttempts ?? 0) > 0 && (
                      <div className="muted small">
                        +{j.attemptDetails!.numberOfRetryAttempts}{' '}
                        {j.attemptDetails!.numberOfRetryAttempts === 1 ? 'retry' : 'retries'}
                      </div>
                    )}
                  </td>
                  <td className="col-wide">{when(j.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager
        page={pager.page}
        nextToken={data?.nextToken}
        onNext={pager.next}
        onPrevious={pager.previous}
        label="Jobs"
      />
    </section>
  );
}
