import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, post } from '../../api/client';
import type { Session } from '../../api/types';
import { ErrorMessage } from '../../components/ErrorMessage';
import { currentPath, navigate, useRoute } from '../../router';
import { jobIdProblem, stepOfField, toCreateJobInput, type Draft } from './draft';
import { StepAdvanced } from './StepAdvanced';
import { StepBasics } from './StepBasics';
import { StepDocument } from './StepDocument';
import { StepReview } from './StepReview';
import { StepSecurity } from './StepSecurity';
import { StepTargets } from './StepTargets';
import { forgetDraft, stepInPath, stepPath, useStoredDraft } from './wizard-state';

const STEPS = ['Job id', 'Targets', 'Document', 'Signing and URLs', 'Rollout and more', 'Review'] as const;

export interface StepProps {
  draft: Draft;
  update: (change: Partial<Draft>) => void;
  error: ApiError | undefined;
  session: Session;
  /** Next was pressed with this step incomplete: show what is missing next to its field. */
  tried?: boolean;
}

/** What stops the form from going past a step before the service is asked (syntax only). */
export function blocker(step: number, d: Draft): string | undefined {
  if (step === 0) return jobIdProblem(d.jobId);
  if (step === 1 && d.targets.length === 0) return 'Choose at least one thing or group.';
  if (step === 2 && d.documentMode !== 'inline' && !d.documentFile) return 'Choose the document file.';
  if (step === 3 && d.sign.enabled) {
    if (d.documentMode === 'inline' && !d.image) return 'Choose the firmware image to sign.';
    if (d.image && !d.image.versionId) return 'Signing needs a version of the image: keep it in a versioned bucket.';
    if (d.sign.profileName === '') return 'Choose a code-signing profile (or create one).';
  }
  if (step === 3 && d.presign.enabled && d.presign.roleArn === '') return 'Choose a role for the download URLs.';
  return undefined;
}

/** The first step that is not complete yet, so a URL cannot skip ahead of what was filled in. */
const reachable = (d: Draft): number => {
  for (let i = 0; i < STEPS.length - 1; i++) if (blocker(i, d)) return i;
  return STEPS.length - 1;
};

/**
 * CreateJob, step by step. Each step is a history entry and the draft survives leaving the page;
 * the service's errors bring you back to the step of their field.
 */
export function CreateJobWizard({ session }: { session: Session }) {
  const path = useRoute();
  const [draft, update, reset] = useStoredDraft(!path.includes('?'));
  // The URL decides the step (Back / Forward); a click sets it at once too, so a quick second
  // click on Next acts on the step it sees rather than on the one before the URL caught up.
  const [wanted, setWanted] = useState(() => stepInPath(path));
  // Read the location itself: a render for an older hashchange must not undo a newer click.
  useEffect(() => setWanted(stepInPath(currentPath())), [path]);
  const step = Math.min(wanted, reachable(draft));
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const [tried, setTried] = useState(false);
  const problem = blocker(step, draft);

  const go = (to: number): void => {
    setTried(false);
    setWanted(to);
    navigate(stepPath(to));
    document.getElementById('wizard-step')?.focus();
  };

  const create = async (): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      // The raw document with its placeholders and the chosen profile: CreateJob signs (spec 6.3).
      await post('/jobs', toCreateJobInput(draft, session.region));
      forgetDraft();
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

  const props: StepProps = { draft, update, error, session, tried };
  return (
    <section aria-labelledby="wizard-title">
      <h1 id="wizard-title">Create a job</h1>
      <p className="hint">
        Devices running the FreeRTOS OTA agent? <a href="#/jobs/new-ota">Create an OTA update</a> instead: the server
        signs the image, streams it and makes the AFR_OTA job.
      </p>
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
          {/* The job id's problem is shown under its own field (step 0), not repeated here. */}
          {tried && problem && step !== 0 && (
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
          <button
            type="button"
            onClick={() => {
              reset();
              go(0);
            }}
          >
            Start over
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {step < STEPS.length - 1 ? 'Next' : busy ? 'Creating…' : 'Create job'}
          </button>
        </div>
      </form>
    </section>
  );
}
