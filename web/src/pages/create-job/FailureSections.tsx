import { Field } from '../../components/Field';
import type { StepProps } from './CreateJobWizard';

const ABORT_TYPES = ['FAILED', 'REJECTED', 'TIMED_OUT', 'ALL'];
const RETRY_TYPES = ['FAILED', 'TIMED_OUT', 'ALL'];

/** abortConfig: cancel the job when too many executions fail. */
export function AbortSection({ draft, update, error }: StepProps) {
  const list = draft.abort;
  const set = (i: number, change: Partial<(typeof list)[number]>): void =>
    update({ abort: list.map((c, j) => (j === i ? { ...c, ...change } : c)) });
  const err = (i: number, f: string): string | undefined =>
    error?.forField(`abortConfig.criteriaList.${i + 1}.member.${f}`);
  return (
    <details open={list.length > 0 || !!error?.forField('abortConfig')}>
      <summary>Abort criteria</summary>
      {list.map((c, i) => (
        <fieldset key={i} className="row">
          <legend>Criterion {i + 1}</legend>
          <Field label="Failure type" error={err(i, 'failureType')}>
            {(a) => (
              <select {...a} value={c.failureType} onChange={(e) => set(i, { failureType: e.target.value })}>
                {ABORT_TYPES.map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Threshold %" error={err(i, 'thresholdPercentage')}>
            {(a) => (
              <input
                {...a}
                type="number"
                min={0}
                max={100}
                step={0.01}
                value={c.thresholdPercentage}
                onChange={(e) => set(i, { thresholdPercentage: e.target.value })}
              />
            )}
          </Field>
          <Field label="After at least this many finished" error={err(i, 'minNumberOfExecutedThings')}>
            {(a) => (
              <input
                {...a}
                type="number"
                min={1}
                value={c.minNumberOfExecutedThings}
                onChange={(e) => set(i, { minNumberOfExecutedThings: e.target.value })}
              />
            )}
          </Field>
          <button type="button" onClick={() => update({ abort: list.filter((_, j) => j !== i) })}>
            Remove criterion {i + 1}
          </button>
        </fieldset>
      ))}
      <button
        type="button"
        onClick={() =>
          update({
            abort: [...list, { failureType: 'FAILED', thresholdPercentage: '10', minNumberOfExecutedThings: '10' }],
          })
        }
      >
        Add an abort criterion
      </button>
      {error?.forField('abortConfig') && !list.length && <p className="field-error">{error.forField('abortConfig')}</p>}
    </details>
  );
}

/** timeoutConfig: minutes a device may stay IN_PROGRESS. */
export function TimeoutSection({ draft, update, error }: StepProps) {
  return (
    <details open={draft.timeoutMinutes !== '' || !!error?.forField('timeoutConfig')}>
      <summary>Timeout</summary>
      <Field
        label="In-progress timeout (minutes)"
        hint="1 to 10080 (7 days); empty for none"
        error={error?.forField('timeoutConfig')}
      >
        {(a) => (
          <input
            {...a}
            type="number"
            min={1}
            max={10080}
            value={draft.timeoutMinutes}
            onChange={(e) => update({ timeoutMinutes: e.target.value })}
          />
        )}
      </Field>
    </details>
  );
}

/** jobExecutionsRetryConfig: retry failed or timed-out executions. */
export function RetriesSection({ draft, update, error }: StepProps) {
  const list = draft.retries;
  const set = (i: number, change: Partial<(typeof list)[number]>): void =>
    update({ retries: list.map((c, j) => (j === i ? { ...c, ...change } : c)) });
  const err = (i: number, f: string): string | undefined =>
    error?.forField(`jobExecutionsRetryConfig.criteriaList.${i + 1}.member.${f}`);
  return (
    <details open={list.length > 0 || !!error?.forField('jobExecutionsRetryConfig')}>
      <summary>Retries</summary>
      {list.map((c, i) => (
        <fieldset key={i} className="row">
          <legend>Retry rule {i + 1}</legend>
          <Field label="When" error={err(i, 'failureType')}>
            {(a) => (
              <select {...a} value={c.failureType} onChange={(e) => set(i, { failureType: e.target.value })}>
                {RETRY_TYPES.map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Retries" hint="0 to 10" error={err(i, 'numberOfRetries')}>
            {(a) => (
              <input
                {...a}
                type="number"
                min={0}
                max={10}
                value={c.numberOfRetries}
                onChange={(e) => set(i, { numberOfRetries: e.target.value })}
              />
            )}
          </Field>
          <button type="button" onClick={() => update({ retries: list.filter((_, j) => j !== i) })}>
            Remove rule {i + 1}
          </button>
        </fieldset>
      ))}
      {list.length < 2 && (
        <button
          type="button"
          onClick={() => update({ retries: [...list, { failureType: 'FAILED', numberOfRetries: '1' }] })}
        >
          Add a retry rule
        </button>
      )}
      {error?.forField('jobExecutionsRetryConfig.criteriaList') && (
        <p className="field-error">{error.forField('jobExecutionsRetryConfig.criteriaList')}</p>
      )}
    </details>
  );
}
