import { nameOf } from '../../api/types';
import { TargetPicker } from '../../components/TargetPicker';
import type { StepProps } from './CreateJobWizard';

/** Things and groups to target, found by search and picked several at a time. */
export function StepTargets({ draft, update, error }: StepProps) {
  const remove = (arn: string): void => update({ targets: draft.targets.filter((t) => t !== arn) });
  const problem = error?.forField('targets');
  return (
    <>
      <TargetPicker selected={draft.targets} onChange={(targets) => update({ targets })} />
      <h3 id="chosen-title">Chosen targets</h3>
      <ul className="chips" aria-labelledby="chosen-title" aria-live="polite">
        {draft.targets.length === 0 && <li className="muted">None yet.</li>}
        {draft.targets.map((arn) => (
          <li key={arn} className="chip">
            {arn.includes(':thinggroup/') ? 'Group' : 'Thing'} {nameOf(arn)}
            <button type="button" className="link" onClick={() => remove(arn)} aria-label={`Remove ${nameOf(arn)}`}>
              ×
            </button>
          </li>
        ))}
      </ul>
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
    </>
  );
}
