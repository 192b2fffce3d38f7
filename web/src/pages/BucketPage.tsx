import { useState } from 'react';
import { ApiError, enc, qs, upload } from '../api/client';
import { useApi } from '../api/use-api';
import { ErrorMessage } from '../components/ErrorMessage';
import { Field } from '../components/Field';
import { formatBytes } from '../components/format';
import { href } from '../router';
import { FileActions } from './FileActions';
import { VersionsList } from './VersionsList';

interface ObjectItem {
  key: string;
  size: number;
  lastModified: string;
}

/** A bucket: its files, upload with progress, each file's versions. */
export function BucketPage({ bucket }: { bucket: string }) {
  const [token, setToken] = useState<string>();
  const objects = useApi<{ objects: ObjectItem[]; versioning?: string; nextToken?: string }>(
    `/buckets/${enc(bucket)}/objects${qs({ continuationToken: token })}`,
  );
  const [progress, setProgress] = useState<number>();
  const [uploadError, setUploadError] = useState<ApiError>();
  const [open, setOpen] = useState<string>();
  const [key, setKey] = useState('');

  const send = async (file: File): Promise<void> => {
    setUploadError(undefined);
    setProgress(0);
    const name = key.trim() || file.name;
    try {
      await upload(`/buckets/${enc(bucket)}/objects${qs({ key: name })}`, file, setProgress);
      setKey('');
      objects.reload();
    } catch (e) {
      setUploadError(e instanceof ApiError ? e : new ApiError(0, 'Error', String(e)));
      setProgress(undefined);
    }
  };

  return (
    <section aria-labelledby="bucket-title">
      <nav className="crumbs" aria-label="Breadcrumb">
        <a href={href('/files')}>Files</a> / <span>{bucket}</span>
      </nav>
      <h1 id="bucket-title">{bucket}</h1>
      {objects.data?.versioning && <p className="muted">Versioning: {objects.data.versioning}</p>}
      <div className="card inline-form">
        <Field label="Store as (optional)" hint="Defaults to the file's name; use / for folders">
          {(a) => <input {...a} value={key} onChange={(e) => setKey(e.target.value)} />}
        </Field>
        <Field label="Upload a file" error={uploadError?.forField('key')}>
          {(a) => <input {...a} type="file" onChange={(e) => e.target.files?.[0] && void send(e.target.files[0])} />}
        </Field>
        {progress !== undefined && (
          <div role="status">
            <progress max={1} value={progress} aria-label="Upload progress" /> {Math.round(progress * 100)}%
          </div>
        )}
        <ErrorMessage error={uploadError} onlyGeneral />
      </div>
      <ErrorMessage error={objects.error} />
      <div className="table-wrap">
        <table>
          <caption className="sr-only">Files in {bucket}</caption>
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">Size</th>
              <th scope="col">Modified</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {objects.data?.objects.length === 0 && (
              <tr>
                <td colSpan={4} className="muted">
                  No files yet.
                </td>
              </tr>
            )}
            {objects.data?.objects.map((o) => (
              <tr key={o.key}>
                <td>{o.key}</td>
                <td>{formatBytes(o.size)}</td>
                <td>{new Date(o.lastModified).toLocaleString()}</td>
                <td>
                  <FileActions bucket={bucket} objectKey={o.key} onDeleted={objects.reload} />
                  <button
                    type="button"
                    aria-expanded={open === o.key}
                    onClick={() => setOpen(open === o.key ? undefined : o.key)}
                  >
                    Versions<span className="sr-only"> of {o.key}</span>
                  </button>
                  {open === o.key && <VersionsList bucket={bucket} objectKey={o.key} />}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {objects.data?.nextToken && (
        <button type="button" onClick={() => setToken(objects.data?.nextToken)}>
          More files →
        </button>
      )}
    </section>
  );
}
