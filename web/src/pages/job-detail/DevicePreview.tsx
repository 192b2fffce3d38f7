import { useState, type FormEvent } from 'react';
import { ApiError, enc, get } from '../../api/client';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Field } from '../../components/Field';

const pretty = (text: string): string => {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
};

/** The document exactly as a chosen device receives it now (placeholders rendered by the server). */
export function DevicePreview({ jobId }: { jobId: string }) {
  const [thing, setThing] = useState('');
  const [doc, setDoc] = useState<string>();
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);

  const show = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const res = await get<{ jobDocument?: string }>(
        `/jobs/${enc(jobId)}/executions/${enc(thing.trim())}/device-document`,
      );
      setDoc(res.jobDocument ?? '');
    } catch (err) {
      setDoc(undefined);
      setError(err instanceof ApiError ? err : new ApiError(0, 'Error', String(err)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="preview-title">
      <h2 id="preview-title">Document as a device receives it</h2>
      <form className="inline-form" onSubmit={show}>
        <Field
          label="Thing"
          hint="A thing with an execution of this job. Presigned URLs are made fresh for each request."
        >
          {(a) => (
            <input {...a} value={thing} onChange={(e) => setThing(e.target.value)} placeholder="thing name" required />
          )}
        </Field>
        <button type="submit" disabled={busy || thing.trim() === ''}>
          {busy ? 'Rendering…' : 'Preview'}
        </button>
      </form>
      <ErrorMessage error={error} />
      {doc !== undefined && (
        <pre className="code" data-testid="device-document" tabIndex={0} aria-label={`Document for ${thing}`}>
          {pretty(doc)}
        </pre>
      )}
    </section>
  );
}
