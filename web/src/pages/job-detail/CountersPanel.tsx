import { COUNTER_OF, EXECUTION_STATUSES, type Counters } from '../../api/types';

export type Attempts = Record<string, number>;

/**
 * Things by the status of their latest execution (jobProcessDetails), one number each, announced
 * politely when they change; the attempts behind them (retries, failed and timed-out attempts that
 * were retried) are counted apart, from the job's attemptDetails.
 */
export function CountersPanel({ counters, attempts }: { counters: Counters | undefined; attempts?: Attempts }) {
  return (
    <>
      <dl className="counters" aria-live="polite" aria-label="Things by status">
        {EXECUTION_STATUSES.map((s) => (
          <div key={s} className={`counter counter-${s.toLowerCase().replace(/_/g, '-')}`}>
            <dt>{s.replace(/_/g, ' ')}</dt>
            <dd data-testid={`count-${s}`}>{counters?.[COUNTER_OF[s]] ?? 0}</dd>
          </div>
        ))}
      </dl>
      {attempts && <AttemptsLine attempts={attempts} />}
    </>
  );
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function AttemptsLine({ attempts }: { attempts: Attempts }) {
  const retries = attempts.numberOfRetryAttempts ?? 0;
  const failed = attempts.numberOfFailedAttempts ?? 0;
  const timedOut = attempts.numberOfTimedOutAttempts ?? 0;
  return (
    <p className="muted" data-testid="attempts">
      Attempts, apart from the things above: {plural(retries, 'retry', 'retries')}
      {failed > 0 && `, ${plural(failed, 'failed attempt')}`}
      {timedOut > 0 && `, ${plural(timedOut, 'timed-out attempt')}`}.
    </p>
  );
}
