import { useEffect } from 'react';
import { enc, qs } from '../api/client';
import { useApi } from '../api/use-api';
import { ErrorMessage } from './ErrorMessage';
import { Field } from './Field';
import { formatBytes } from './format';

export interface PickedFile {
  bucket: string;
  key: string;
  versionId?: string;
}

interface Bucket {
  name: string;
}
interface ObjectItem {
  key: string;
  size: number;
}
interface Version {
  versionId: string;
  isLatest: boolean;
  lastModified: string;
  deleteMarker?: boolean;
}

/** Bucket, then object, then version (the newest is chosen unless another is picked). */
export function FilePicker({
  label,
  value,
  onChange,
  error,
}: {
  label: string;
  value?: PickedFile;
  onChange: (f?: PickedFile) => void;
  error?: string;
}) {
  const buckets = useApi<{ buckets: Bucket[] }>('/buckets');
  const bucket = value?.bucket ?? '';
  const objects = useApi<{ objects: ObjectItem[] }>(
    bucket ? `/buckets/${enc(bucket)}/objects${qs({ maxKeys: 1000 })}` : null,
  );
  const key = value?.key ?? '';
  const versions = useApi<{ versions: Version[] }>(
    bucket && key ? `/buckets/${enc(bucket)}/versions${qs({ key })}` : null,
  );
  const real = (versions.data?.versions ?? []).filter((v) => !v.deleteMarker && v.versionId !== 'null');
  const latest = real.find((v) => v.isLatest)?.versionId;
  // Pin the newest version by default, so a later upload cannot change what the job delivers.
  useEffect(() => {
    if (value && value.versionId === undefined && latest) onChange({ ...value, versionId: latest });
  }, [value, latest, onChange]);

  return (
    <fieldset className="file-picker">
      <legend>{label}</legend>
      <ErrorMessage error={buckets.error ?? objects.error ?? versions.error} />
      <div className="row">
        <Field label="Bucket">
          {(a) => (
            <select
              {...a}
              value={bucket}
              onChange={(e) => onChange(e.target.value ? { bucket: e.target.value, key: '' } : undefined)}
            >
              <option value="">Choose…</option>
              {buckets.data?.buckets.map((b) => (
                <option key={b.name}>{b.name}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label="File">
          {(a) => (
            <select {...a} value={key} disabled={!bucket} onChange={(e) => onChange({ bucket, key: e.target.value })}>
              <option value="">Choose…</option>
              {objects.data?.objects.map((o) => (
                <option key={o.key} value={o.key}>
                  {o.key} ({formatBytes(o.size)})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Version" error={error}>
          {(a) => (
            <select
              {...a}
              value={value?.versionId ?? ''}
              disabled={!key}
              onChange={(e) => onChange({ bucket, key, ...(e.target.value && { versionId: e.target.value }) })}
            >
              {real.length === 0 && <option value="">(not versioned)</option>}
              {real.map((v) => (
                <option key={v.versionId} value={v.versionId}>
                  {v.isLatest ? 'latest: ' : ''}
                  {v.versionId.slice(0, 12)} · {new Date(v.lastModified).toLocaleString()}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
    </fieldset>
  );
}
