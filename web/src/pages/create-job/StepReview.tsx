import { useEffect } from 'react';
import { enc, qs } from '../../api/client';
import { nameOf } from '../../api/types';
import { useApi } from '../../api/use-api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { SettingsList } from '../../components/SettingsList';
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

/**
 * The job in words, and the document as the service will store it: the server checks it as
 * CreateJob will (profile, image version, role) but signs nothing; it signs when the job is created.
 */
export function StepReview({ draft, session }: StepProps) {
  const input = toCreateJobInput(draft, session.region);
  const f = draft.documentFile;
  const fromFile = useApi<{ text: string }>(
    draft.documentMode !== 'inline' && f
      ? `/buckets/${enc(f.bucket)}/object${qs({ key: f.key, versionId: f.versionId })}`
      : null,
  );
  const raw = draft.documentMode === 'inline' ? (input.document as string) : fromFile.data?.text;
  const stored = useStoredPreview(raw, input);
  useEffect(() => document.getElementById('review-title')?.focus(), []);
  const { document: _document, ...config } = input;

  return (
    <>
      <dl className="pairs">
        <dt>Job id</dt>
        <dd>{draft.jobId}</dd>
        {draft.description !== '' && (
          <>
            <dt>Description</dt>
            <dd>{draft.description}</dd>
          </>
        )}
        <dt>Targets</dt>
        <dd>{draft.targets.map(nameOf).join(', ')}</dd>
        <dt>Type</dt>
        <dd>
          {draft.targetSelection === 'SNAPSHOT'
            ? 'Snapshot: the targets as they are now'
            : 'Continuous: things that join a target group later get it too'}
        </dd>
      </dl>
      <h3 id="review-title" tabIndex={-1}>
        Settings
      </h3>
      <SettingsList job={config} rawLabel="CreateJob request" />
      <h3>Document as it will be stored</h3>
      <ErrorMessage error={fromFile.error ?? stored.error} />
      {stored.text !== undefined ? (
        <pre className="code" data-testid="review-document" tabIndex={0} aria-label="Final job document">
          {pretty(stored.text)}
        </pre>
      ) : (
        <p className="muted" role="status">
          Checking the document…
        </p>
      )}
      <p className="hint">
        {input.codeSigning !== undefined &&
          'The signature is made when you create the job, once, with the profile you chose. '}
        Download URL placeholders stay in the stored document: each device gets fresh URLs when it fetches the job.
      </p>
    </>
  );
}
