import { COUNTER_OF, EXECUTION_STATUSES, finished, total, type Counters } from '../api/types';

/**
 * Things by the status of their latest execution (jobProcessDetails counts things, not attempts), as a
 * stacked bar, with the share that finished spelled out for screen readers.
 */
export function ProgressBar({ counters, label }: { counters: Counters | undefined; label: string }) {
  const all = total(counters);
  const done = finished(counters);
  const percent = all === 0 ? 0 : Math.round((done / all) * 100);
  return (
    <div className="progress" role="img" aria-label={`${label}: ${done} of ${all} things finished (${percent}%)`}>
      <div className="progress-bar" aria-hidden="true">
        {EXECUTION_STATUSES.map((s) => {
          const n = counters?.[COUNTER_OF[s]] ?? 0;
          return n === 0 ? null : (
            <span key={s} className={`seg seg-${s.toLowerCase().replace(/_/g, '-')}`} style={{ flexGrow: n }} />
          );
        })}
      </div>
      <span className="progress-text" aria-hidden="true">
        {done}/{all} things
      </span>
    </div>
  );
}
