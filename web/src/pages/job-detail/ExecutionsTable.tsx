import { Fragment, useEffect, useState } from 'react';
import { enc, qs } from '../../api/client';
import { EXECUTION_STATUSES, nameOf, when, type ExecutionSummary, type Page } from '../../api/types';
import { useApi } from '../../api/use-api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Pager, usePager } from '../../components/Pager';
import { StatusBadge } from '../../components/StatusBadge';
import { href } from '../../router';
import { ExecutionDetails } from './ExecutionDetails';

const PAGE_SIZE = 50;

/** The job's executions, a page at a time (keyset), filtered by status; details on demand. */
export function ExecutionsTable({ jobId, refreshKey }: { jobId: string; refreshKey: string }) {
  const [status, setStatus] = useState('');
  const [open, setOpen] = useState<string>();
  const pager = usePager();
  const { reset } = pager;
  useEffect(reset, [status, reset]);
  const { data, error, reload } = useApi<{ executionSummaries: ExecutionSummary[] } & Page>(
    `/jobs/${enc(jobId)}/executions${qs({ status, nextToken: pager.token, maxResults: PAGE_SIZE })}`,
  );
  // Counters changed: refresh the rows on screen (same page, same filter).
  useEffect(reload, [refreshKey, reload]);

  return (
    <section aria-labelledby="executions-title">
      <div className="page-head">
        <h2 id="executions-title">Executions</h2>
        <label className="inline">
          <span className="sr-only">Filter executions by </span>Status{' '}
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">All</option>
            {EXECUTION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace(/_/g, ' ')}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorMessage error={error} />
      <div className="table-wrap">
        <table>
          <caption className="sr-only">Executions of job {jobId}</caption>
          <thead>
            <tr>
              <th scope="col">Thing</th>
              <th scope="col">Status</th>
              <th scope="col">Execution</th>
              <th scope="col">Queued</th>
              <th scope="col">Last update</th>
              <th scope="col">Reason</th>
              <th scope="col">
                <span className="sr-only">Details</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data?.executionSummaries.length === 0 && (
              <tr>
                <td colSpan={7} className="muted">
                  No executions{status ? ` in ${status.replace(/_/g, ' ')}` : ''}.
                </td>
              </tr>
            )}
            {data?.executionSummaries.map((e) => {
              const thing = nameOf(e.thingArn);
              const s = e.jobExecutionSummary;
              const key = `${thing}#${s.executionNumber}`;
              return (
                <Fragment key={key}>
                  <tr>
                    <td>
                      <a href={href(`/things/${enc(thing)}`)}>{thing}</a>
                    </td>
                    <td>
                      <StatusBadge status={s.status} />
                    </td>
                    <td>
                      #{s.executionNumber}
                      {s.retryAttempt ? ` (retry ${s.retryAttempt})` : ''}
                    </td>
                    <td>{when(s.queuedAt)}</td>
                    <td>{when(s.lastUpdatedAt)}</td>
                    <td className="reason">{e.reason ?? ''}</td>
                    <td>
                      <button
                        type="button"
                        aria-expanded={open === key}
                        onClick={() => setOpen(open === key ? undefined : key)}
                      >
                        {open === key ? 'Hide' : 'Details'}
                        <span className="sr-only"> of {thing}</span>
                      </button>
                    </td>
                  </tr>
                  {open === key && (
                    <tr className="details-row">
                      <td colSpan={7}>
                        <ExecutionDetails jobId={jobId} thingName={thing} executionNumber={s.executionNumber} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      </div>
      <Pager
        page={pager.page}
        nextToken={data?.nextToken}
        onNext={pager.next}
        onPrevious={pager.previous}
        label="Executions"
      />
    </section>
  );
}
