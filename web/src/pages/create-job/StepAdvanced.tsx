import type { StepProps } from './CreateJobWizard';
import { AbortSection, RetriesSection, TimeoutSection } from './FailureSections';
import { RolloutSection } from './RolloutSection';
import { SchedulingSection } from './SchedulingSection';
import { StagedSection } from './StagedSection';

/** SNAPSHOT or CONTINUOUS, and the advanced configurations, each folded away until needed. */
export function StepAdvanced(props: StepProps) {
  const { draft, update, error } = props;
  return (
    <>
      <fieldset className="filters">
        <legend>Job type</legend>
        <label className="chip">
          <input
            type="radio"
            name="target-selection"
            checked={draft.targetSelection === 'SNAPSHOT'}
            onChange={() => update({ targetSelection: 'SNAPSHOT' })}
          />
          Snapshot: the targets as they are now; done when all have finished
        </label>
        <label className="chip">
          <input
            type="radio"
            name="target-selection"
            checked={draft.targetSelection === 'CONTINUOUS'}
            onChange={() => update({ targetSelection: 'CONTINUOUS' })}
          />
          Continuous: things that join a target group later get it too
        </label>
      </fieldset>
      {error?.forField('targetSelection') && <p className="field-error">{error.forField('targetSelection')}</p>}
      <RolloutSection {...props} />
      <AbortSection {...props} />
      <TimeoutSection {...props} />
      <RetriesSection {...props} />
      <SchedulingSection {...props} />
      <StagedSection {...props} />
    </>
  );
}
