import { Field } from '../../components/Field';
import type { StepProps } from './CreateJobWizard';

/** schedulingConfig: start and end time, what happens at the end, maintenance windows. */
export function SchedulingSection({ draft, update, error }: StepProps) {
  const s = draft.scheduling;
  const set = (change: Partial<typeof s>): void => update({ scheduling: { ...s, ...change } });
  const setWindow = (i: number, change: Partial<(typeof s.windows)[number]>): void =>
    set({ windows: s.windows.map((w, j) => (j === i ? { ...w, ...change } : w)) });
  const err = (f: string): string | undefined => error?.forField(`schedulingConfig.${f}`);
  return (
    <details open={s.enabled || !!error?.forField('schedulingConfig')}>
      <summary>Scheduling and maintenance windows</summary>
      <label className="check">
        <input type="checkbox" checked={s.enabled} onChange={(e) => set({ enabled: e.target.checked })} />
        Schedule this job
      </label>
      {s.enabled && (
        <>
          <div className="row">
            <Field label="Start (UTC)" hint="YYYY-MM-DDTHH:MM, 30 minutes to a year ahead" error={err('startTime')}>
              {(a) => (
                <input
                  {...a}
                  placeholder="2030-01-01T22:00"
                  value={s.startTime}
                  onChange={(e) => set({ startTime: e.target.value })}
                />
              )}
            </Field>
            <Field label="End (UTC)" error={err('endTime')}>
              {(a) => (
                <input
                  {...a}
                  placeholder="2030-01-02T06:00"
                  value={s.endTime}
                  onChange={(e) => set({ endTime: e.target.value })}
                />
              )}
            </Field>
            <Field label="At the end" error={err('endBehavior')}>
              {(a) => (
                <select {...a} value={s.endBehavior} onChange={(e) => set({ endBehavior: e.target.value })}>
                  <option value="">(default)</option>
                  <option value="STOP_ROLLOUT">Stop the rollout</option>
                  <option value="CANCEL">Cancel queued executions</option>
                  <option value="FORCE_CANCEL">Cancel all executions</option>
                </select>
              )}
            </Field>
          </div>
          {s.windows.map((w, i) => (
            <fieldset key={i} className="row">
              <legend>Maintenance window {i + 1}</legend>
              <Field
                label="Starts (cron)"
                hint="e.g. cron(0 22 ? * SAT *)"
                error={err(`maintenanceWindows.${i + 1}.member.startTime`)}
              >
                {(a) => (
                  <input {...a} value={w.startTime} onChange={(e) => setWindow(i, { startTime: e.target.value })} />
                )}
              </Field>
              <Field
                label="Lasts (minutes)"
                hint="1 to 1430"
                error={err(`maintenanceWindows.${i + 1}.member.durationInMinutes`)}
              >
                {(a) => (
                  <input
                    {...a}
                    type="number"
                    min={1}
                    max={1430}
                    value={w.durationInMinutes}
                    onChange={(e) => setWindow(i, { durationInMinutes: e.target.value })}
                  />
                )}
              </Field>
              <button type="button" onClick={() => set({ windows: s.windows.filter((_, j) => j !== i) })}>
                Remove window {i + 1}
              </button>
            </fieldset>
          ))}
          <button
            type="button"
            onClick={() =>
              set({ windows: [...s.windows, { startTime: 'cron(0 22 ? * SAT *)', durationInMinutes: '240' }] })
            }
          >
            Add a maintenance window
          </button>
        </>
      )}
    </details>
  );
}
