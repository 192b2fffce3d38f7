import { useEffect } from 'react';
import { enc, qs } from '../../api/client';
import { nameOf } from '../../api/types';
import { useApi } from '../../api/use-api';
import { ErrorMessage } from '../../components/ErrorMessage';
import type { StepProps } from './CreateJobWizard';
import { toCreateJobInput } from './draft';
import { useStoredPreview } from './useStoredPreview';

const pretty = (text: string): string => {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
};

/** The request that will be sent, and the document as the service will store it. */
export function StepReview({ draft, session, onStored }: StepProps) {
  const input = toCreateJobInput(draft, session.region);
  const f = draft.documentFile;
  const fromFile = useApi<{ text: string }>(
    draft.documentMode !== 'inline' && f
      ? `/buckets/${enc(f.bucket)}/object${qs({ key: f.key, versionId: f.versionId })}`
      : null,
  );
  const raw = draft.documentMode === 'inline' ? draft.documentText : fromFile.data?.text;
  const stored = useStoredPreview(draft.documentMode === 'inline' ? raw : undefined, input);
  useEffect(() => onStored?.(stored.error ? undefined : stored.text), [stored, onStored]);
  const shown = draft.documentMode === 'inline' ? stored.text : raw;
  const { document: _document, ...config } = input;

  return (
    <>
      <dl className="pairs">
        <dt>Job id</dt>
        <dd>{draft.jobId}</dd>
        <dt>Targets</dt>
        <dd>{draft.targets.map(nameOf).join(', ')}</dd>
        <dt>Type</dt>
        <dd>{draft.targetSelection}</dd>
      </dl>
      <h3>Document as it will be stored</h3>
      <ErrorMessage error={fromFile.error ?? stored.error} />
      {shown !== undefined ? (
        <pre className="code" data-testid="review-document" tabIndex={0} aria-label="Final job document">
          {pretty(shown)}
        </pre>
      ) : (
        <p className="muted" role="status">
          Preparing the document…
        </p>
      )}
      <p className="hint">
        Download URL placeholders stay in the stored document: each device gets fresh URLs when it fetches the job.
        {draft.documentMode !== 'inline' && ' Code-sign placeholders in the file are signed when the job is created.'}
      </p>
      <details>
        <summary>CreateJob request</summary>
        <pre className="code small">{JSON.stringify(config, null, 2)}</pre>
      </details>
    </>
  );
}
