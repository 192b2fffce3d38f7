import { useState } from 'react';
import { ApiError, enc, upload } from '../../api/client';
import { useApi } from '../../api/use-api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Field } from '../../components/Field';
import { FilePicker } from '../../components/FilePicker';
import { JsonEditor } from '../../components/JsonEditor';
import type { StepProps } from './CreateJobWizard';
import type { DocumentMode } from './draft';

const MODES: [DocumentMode, string][] = [
  ['inline', 'Write it here'],
  ['bucket', 'From a bucket'],
  ['upload', 'Upload a file'],
];

/** The job document: inline JSON (checked as you type), a file in a bucket, or a file uploaded now. */
export function StepDocument({ draft, update, error }: StepProps) {
  const serviceError = error?.forField('document') ?? error?.forField('documentSource');
  return (
    <>
      <fieldset className="filters">
        <legend>Where the document comes from</legend>
        {MODES.map(([mode, label]) => (
          <label key={mode} className="chip">
            <input
              type="radio"
              name="document-mode"
              checked={draft.documentMode === mode}
              onChange={() => update({ documentMode: mode, documentFile: undefined })}
            />
            {label}
          </label>
        ))}
      </fieldset>
      {draft.documentMode === 'inline' && (
        <JsonEditor
          label="Job document (JSON)"
          value={draft.documentText}
          onChange={(documentText) => update({ documentText })}
          serviceError={serviceError}
          hint="Up to 32 KB. Download URLs and signatures can be added in the next step."
        />
      )}
      {draft.documentMode === 'bucket' && (
        <FilePicker
          label="Document file"
          value={draft.documentFile}
          onChange={(documentFile) => update({ documentFile })}
          error={serviceError}
        />
      )}
      {draft.documentMode === 'upload' && <UploadDocument {...{ draft, update }} error={serviceError} />}
      {draft.documentMode !== 'inline' && (
        <p className="hint">
          The server reads the file once, when the job is created; later changes to it do not matter.
        </p>
      )}
    </>
  );
}

function UploadDocument({ draft, update, error }: Pick<StepProps, 'draft' | 'update'> & { error?: string }) {
  const buckets = useApi<{ buckets: { name: string }[] }>('/buckets');
  const [bucket, setBucket] = useState('');
  const [progress, setProgress] = useState<number>();
  const [failed, setFailed] = useState<ApiError>();
  const send = async (file: File): Promise<void> => {
    setFailed(undefined);
    setProgress(0);
    try {
      const res = await upload<{ versionId?: string }>(
        `/buckets/${enc(bucket)}/objects?key=${enc(file.name)}`,
        file,
        setProgress,
      );
      update({ documentFile: { bucket, key: file.name, ...(res.versionId && { versionId: res.versionId }) } });
    } catch (e) {
      setFailed(e instanceof ApiError ? e : new ApiError(0, 'Error', String(e)));
      setProgress(undefined);
    }
  };
  return (
    <div className="row">
      <Field label="Bucket">
        {(a) => (
          <select {...a} value={bucket} onChange={(e) => setBucket(e.target.value)}>
            <option value="">Choose…</option>
            {buckets.data?.buckets.map((b) => (
              <option key={b.name}>{b.name}</option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Document file (JSON)" error={error}>
        {(a) => (
          <input
            {...a}
            type="file"
            accept="application/json,.json"
            disabled={!bucket}
            onChange={(e) => e.target.files?.[0] && void send(e.target.files[0])}
          />
        )}
      </Field>
      {progress !== undefined && (
        <progress max={1} value={progress} aria-label="Upload progress">
          {Math.round(progress * 100)}%
        </progress>
      )}
      {draft.documentFile && (
        <p className="hint" role="status">
          Uploaded s3://{draft.documentFile.bucket}/{draft.documentFile.key}
        </p>
      )}
      <ErrorMessage error={failed ?? buckets.error} />
    </div>
  );
}
