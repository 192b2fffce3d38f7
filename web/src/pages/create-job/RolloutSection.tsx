import { Field } from '../../components/Field';
import type { StepProps } from './CreateJobWizard';

/** jobExecutionsRolloutConfig: a constant rate, or an exponential one. */
export function RolloutSection({ draft, update, error }: StepProps) {
  const r = draft.rollout;
  const set = (change: Partial<typeof r>): void => update({ rollout: { ...r, ...change } });
  const err = (f: string): string | undefined => error?.forField(`jobExecutionsRolloutConfig.${f}`);
  return (
    <details open={r.enabled || !!error?.forField('jobExecutionsRolloutConfig')}>
      <summary>Rollout rate</summary>
      <label className="check">
        <input type="checkbox" checked={r.enabled} onChange={(e) => set({ enabled: e.target.checked })} />
        Limit how fast devices are told about the job
      </label>
      {r.enabled && (
        <>
          <Field label="At most per minute" hint="1 to 1000" error={err('maximumPerMinute')}>
            {(a) => (
              <input
                {...a}
                type="number"
                min={1}
                max={1000}
                value={r.maximumPerMinute}
                onChange={(e) => set({ maximumPerMinute: e.target.value })}
              />
            )}
          </Field>
          <label className="check">
            <input type="checkbox" checked={r.exponential} onChange={(e) => set({ exponential: e.target.checked })} />
            Exponential: start slower and speed up
          </label>
          {r.exponential && (
            <div className="row">
              <Field label="Base rate per minute" error={err('exponentialRate.baseRatePerMinute')}>
                {(a) => (
                  <input
                    {...a}
                    type="number"
                    min={1}
                    max={1000}
                    value={r.baseRatePerMinute}
                    onChange={(e) => set({ baseRatePerMinute: e.target.value })}
                  />
                )}
              </Field>
              <Field label="Increase factor" hint="1.1 to 5" error={err('exponentialRate.incrementFactor')}>
                {(a) => (
                  <input
                    {...a}
                    type="number"
                    step={0.1}
                    min={1.1}
                    max={5}
                    value={r.incrementFactor}
                    onChange={(e) => set({ incrementFactor: e.target.value })}
                  />
                )}
              </Field>
              <Field label="Speed up after" error={err('exponentialRate.rateIncreaseCriteria')}>
                {(a) => (
                  <select
                    {...a}
                    value={r.criterion}
                    onChange={(e) => set({ criterion: e.target.value as 'notified' | 'succeeded' })}
                  >
                    <option value="notified">things notified</option>
                    <option value="succeeded">things succeeded</option>
                  </select>
                )}
              </Field>
              <Field
                label="Number of things"
                error={
                  err('exponentialRate.rateIncreaseCriteria.numberOfNotifiedThings') ??
                  err('exponentialRate.rateIncreaseCriteria.numberOfSucceededThings')
                }
              >
                {(a) => (
                  <input
                    {...a}
                    type="number"
                    min={1}
                    value={r.threshold}
                    onChange={(e) => set({ threshold: e.target.value })}
                  />
                )}
              </Field>
            </div>
          )}
        </>
      )}
    </details>
  );
}
