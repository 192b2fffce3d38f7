import { useState, type FormEvent } from 'react';
import { ApiError, post } from '../../api/client';
import type { Session } from '../../api/types';
import { ErrorMessage } from '../../components/ErrorMessage';
import { navigate } from '../../router';
import { EMPTY_DRAFT, jobIdProblem, stepOfField, toCreateJobInput, type Draft } from './draft';
import { StepAdvanced } from './StepAdvanced';
import { StepBasics } from './StepBasics';
import { StepDocument } from './StepDocument';
import { StepReview } from './StepReview';
import { StepSecurity } from './StepSecurity';
import { StepTargets } from './StepTargets';

const STEPS = ['Job id', 'Targets', 'Document', 'Signing and URLs', 'Rollout and more', 'Review'] as const;

export interface StepProps {
  draft: Draft;
  update: (change: Partial<Draft>) => void;
  error: ApiError | undefined;
  session: Session;
  /** The review step reports the document as it will be stored (signatures filled in). */
  onStored?: (text: string | undefined) => void;
}

/** What stops the form from going past a step before the service is asked (syntax only). */
function blocker(step: number, d: Draft): string | undefined {
  if (step === 0) return jobIdProblem(d.jobId);
  if (step === 1 && d.targets.length === 0) return 'Choose at least one thing or group.';
  if (step === 2 && d.documentMode !== 'inline' && !d.documentFile) return 'Choose the document file.';
  return undefined;
}

/** CreateJob, step by step; the service's errors bring you back to the step of their field. */
export function CreateJobWizard({ session }: { session: Session }) {
  const [step, setStep] = useState(0);
  const [draft, setDraft] = useState<Draft>(EMPTY_DRAFT);
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const [tried, setTried] = useState(false);
  const [stored, setStored] = useState<string>();
  const update = (change: Partial<Draft>): void => setDraft((d) => ({ ...d, ...change }));
  const problem = blocker(step, draft);

  const go = (to: number): void => {
    setTried(false);
    setStored(undefined);
    setStep(to);
    document.getElementById('wizard-step')?.focus();
  };

  const create = async (): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      const input = toCreateJobInput(draft, session.region);
      // The job stores exactly the document the review showed (signed there, as the AWS console does).
      if (draft.documentMode === 'inline' && stored !== undefined) input.document = stored;
      await post('/jobs', input);
      navigate(`/jobs/${encodeURIComponent(draft.jobId)}`);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(0, 'Error', String(err));
      setError(e);
      setBusy(false);
      const first = e.fieldErrors[0];
      if (first) go(stepOfField(first.field));
    }
  };

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (problem) {
      setTried(true);
      return;
    }
    if (step < STEPS.length - 1) go(step + 1);
    else void create();
  };

  const props: StepProps = { draft, update, error, session, onStored: setStored };
  const waiting = step === STEPS.length - 1 && draft.documentMode === 'inline' && stored === undefined;
  return (
    <section aria-labelledby="wizard-title">
      <h1 id="wizard-title">Create a job</h1>
      <ol className="steps" aria-label="Steps">
        {STEPS.map((label, i) => (
          <li key={label} aria-current={i === step ? 'step' : undefined} className={i < step ? 'done' : ''}>
            {i < step ? (
              <button type="button" className="link" onClick={() => go(i)}>
                {i + 1}. {label}
              </button>
            ) : (
              <span>
                {i + 1}. {label}
              </span>
            )}
          </li>
        ))}
      </ol>
      <form onSubmit={submit} noValidate>
        <div id="wizard-step" tabIndex={-1} className="card">
          <h2>{STEPS[step]}</h2>
          {step === 0 && <StepBasics {...props} />}
          {step === 1 && <StepTargets {...props} />}
          {step === 2 && <StepDocument {...props} />}
          {step === 3 && <StepSecurity {...props} />}
          {step === 4 && <StepAdvanced {...props} />}
          {step === 5 && <StepReview {...props} />}
          {tried && problem && (
            <p className="field-error" role="alert">
              {problem}
            </p>
          )}
          {step === STEPS.length - 1 && <ErrorMessage error={error} />}
        </div>
        <div className="actions wizard-actions">
          <button type="button" onClick={() => go(step - 1)} disabled={step === 0}>
            Back
          </button>
          <button type="submit" className="primary" disabled={busy || waiting}>
            {step < STEPS.length - 1 ? 'Next' : busy ? 'Creating…' : 'Create job'}
          </button>
        </div>
      </form>
    </section>
  );
}
