import { Field } from '../../components/Field';
import type { StepProps } from './CreateJobWizard';
import { jobIdProblem } from './draft';

/** Job id (checked as you type) and description, with the personal-data warning. */
export function StepBasics({ draft, update, error, tried }: StepProps) {
  // An empty id is only a problem once Next was pressed; a bad character is one as soon as it is typed.
  const local = draft.jobId === '' && !tried ? undefined : jobIdProblem(draft.jobId);
  return (
    <>
      <p className="notice" id="privacy-hint">
        Do not put personal data (names, e-mail addresses, locations of people) in the job id or the description: they
        are shown to every operator and stored in logs and events.
      </p>
      <Field
        label="Job id"
        hint="1–64 letters, digits, - and _. It cannot be changed later."
        error={local ?? error?.forField('jobId')}
      >
        {(a) => (
          <input
            {...a}
            aria-describedby={`${a['aria-describedby'] ?? ''} privacy-hint`.trim()}
            value={draft.jobId}
            onChange={(e) => update({ jobId: e.target.value })}
            autoComplete="off"
            required
            maxLength={200}
          />
        )}
      </Field>
      <Field label="Description (optional)" error={error?.forField('description')}>
        {(a) => (
          <textarea
            {...a}
            aria-describedby={`${a['aria-describedby'] ?? ''} privacy-hint`.trim()}
            rows={3}
            value={draft.description}
            onChange={(e) => update({ description: e.target.value })}
          />
        )}
      </Field>
    </>
  );
}
