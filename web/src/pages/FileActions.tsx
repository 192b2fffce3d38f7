import { useState } from 'react';
import { del, enc, get, qs } from '../api/client';
import { useAction } from '../api/use-api';
import { ErrorMessage } from '../components/ErrorMessage';

/** Download, SHA-256 and delete for one file (its latest version) or one version of it. */
export function FileActions({
  bucket,
  objectKey,
  versionId,
  onDeleted,
}: {
  bucket: string;
  objectKey: string;
  versionId?: string;
  onDeleted: () => void;
}) {
  const [sha256, setSha256] = useState<string>();
  const where = qs({ key: objectKey, versionId });
  const what = versionId ? `version ${versionId} of ${objectKey}` : objectKey;
  const checksum = useAction(async () => {
    setSha256((await get<{ sha256: string }>(`/buckets/${enc(bucket)}/checksum${where}`)).sha256);
  });
  const remove = useAction(async () => {
    await del(`/buckets/${enc(bucket)}/objects${where}`);
    onDeleted();
  });
  return (
    <div className="row-actions">
      <a className="button" href={`/console/api/buckets/${enc(bucket)}/download${where}`} download>
        Download<span className="sr-only"> {what}</span>
      </a>
      <button type="button" onClick={() => void checksum.run()} disabled={checksum.busy}>
        SHA-256<span className="sr-only"> of {what}</span>
      </button>
      <button
        type="button"
        className="danger"
        disabled={remove.busy}
        onClick={() => {
          if (window.confirm(`Delete ${what}?`)) void remove.run();
        }}
      >
        Delete<span className="sr-only"> {what}</span>
      </button>
      {sha256 && (
        <code className="small" aria-label={`SHA-256 of ${what}`}>
          {sha256}
        </code>
      )}
      <ErrorMessage error={checksum.error ?? remove.error} />
    </div>
  );
}
