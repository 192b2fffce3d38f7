import { COUNTER_OF, EXECUTION_STATUSES, type Counters } from '../../api/types';

/** One number per execution status; announced politely when they change. */
export function CountersPanel({ counters }: { counters: Counters | undefined }) {
  return (
    <dl className="counters" aria-live="polite" aria-label="Execution counts">
      {EXECUTION_STATUSES.map((s) => (
        <div key={s} className={`counter counter-${s.toLowerCase().replace(/_/g, '-')}`}>
          <dt>{s.replace(/_/g, ' ')}</dt>
          <dd data-testid={`count-${s}`}>{counters?.[COUNTER_OF[s]] ?? 0}</dd>
        </div>
      ))}
    </dl>
  );
}
