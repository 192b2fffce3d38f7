import { Field } from '../../components/Field';
import type { StepProps } from './CreateJobWizard';
import type { Wave } from './draft';

/** stagedRollout (a fleetjobs extension): waves that open only when the previous one succeeded enough. */
export function StagedSection({ draft, update, error }: StepProps) {
  const s = draft.staged;
  const set = (change: Partial<typeof s>): void => update({ staged: { ...s, ...change } });
  const setWave = (i: number, change: Partial<Wave>): void =>
    set({ waves: s.waves.map((w, j) => (j === i ? { ...w, ...change } : w)) });
  const err = (f: string): string | undefined => error?.forField(`stagedRollout.${f}`);
  return (
    <details open={s.enabled || !!error?.forField('stagedRollout')}>
      <summary>Staged waves (fleetjobs extension)</summary>
      <label className="check">
        <input
          type="checkbox"
          checked={s.enabled}
          onChange={(e) =>
            set({ enabled: e.target.checked, waves: s.waves.length ? s.waves : [{ kind: 'percentage', value: '10' }] })
          }
        />
        Roll out in waves with a success gate
      </label>
      {s.enabled && (
        <>
          {s.waves.map((w, i) => (
            <fieldset key={i} className="row">
              <legend>Wave {i + 1}</legend>
              <Field label="Size as">
                {(a) => (
                  <select {...a} value={w.kind} onChange={(e) => setWave(i, { kind: e.target.value as Wave['kind'] })}>
                    <option value="percentage">% of targets</option>
                    <option value="count">number of things</option>
                  </select>
                )}
              </Field>
              <Field label="Size" error={err(`waves.${i + 1}.member`)}>
                {(a) => (
                  <input
                    {...a}
                    type="number"
                    min={1}
                    value={w.value}
                    onChange={(e) => setWave(i, { value: e.target.value })}
                  />
                )}
              </Field>
              <button type="button" onClick={() => set({ waves: s.waves.filter((_, j) => j !== i) })}>
                Remove wave {i + 1}
              </button>
            </fieldset>
          ))}
          <button type="button" onClick={() => set({ waves: [...s.waves, { kind: 'percentage', value: '50' }] })}>
            Add a wave
          </button>
          <div className="row">
            <Field label="Success needed to open the next wave (%)" error={err('successThresholdPercentage')}>
              {(a) => (
                <input
                  {...a}
                  type="number"
                  min={0}
                  max={100}
                  value={s.successThresholdPercentage}
                  onChange={(e) => set({ successThresholdPercentage: e.target.value })}
                />
              )}
            </Field>
            <Field label="If a wave falls short" error={err('onGateFailure')}>
              {(a) => (
                <select
                  {...a}
                  value={s.onGateFailure}
                  onChange={(e) => set({ onGateFailure: e.target.value as 'PAUSE' | 'ABORT' })}
                >
                  <option value="PAUSE">Pause the rollout</option>
                  <option value="ABORT">Cancel the job</option>
                </select>
              )}
            </Field>
          </div>
          {err('waves') && <p className="field-error">{err('waves')}</p>}
        </>
      )}
    </details>
  );
}
