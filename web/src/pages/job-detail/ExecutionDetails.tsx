import { enc } from '../../api/client';
import { when, type Execution } from '../../api/types';
import { useApi } from '../../api/use-api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Loading } from '../../components/Loading';

/** One execution as DescribeJobExecution returns it: status details, versions, timer. */
export function ExecutionDetails({
  jobId,
  thingName,
  executionNumber,
}: {
  jobId: string;
  thingName: string;
  executionNumber: number;
}) {
  const { data, error } = useApi<{ execution: Execution }>(
    `/jobs/${enc(jobId)}/executions/${enc(thingName)}?executionNumber=${executionNumber}`,
  );
  if (error) return <ErrorMessage error={error} />;
  if (!data) return <Loading what="the execution" />;
  const e = data.execution;
  const details = Object.entries(e.statusDetails?.detailsMap ?? {});
  return (
    <div className="execution-details">
      <dl className="pairs">
        <dt>Version</dt>
        <dd>{e.versionNumber}</dd>
        <dt>Started</dt>
        <dd>{when(e.startedAt)}</dd>
        {e.approximateSecondsBeforeTimedOut !== undefined && (
          <>
            <dt>Times out in</dt>
            <dd>about {e.approximateSecondsBeforeTimedOut} s</dd>
          </>
        )}
        {e.forceCanceled && (
          <>
            <dt>Canceled</dt>
            <dd>with force</dd>
          </>
        )}
      </dl>
      <h3>Status details</h3>
      {details.length === 0 ? (
        <p className="muted">The device reported no status details.</p>
      ) : (
        <dl className="pairs">
          {details.map(([k, v]) => (
            <div key={k} className="pair">
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
      )}
    </div>
  );
}
