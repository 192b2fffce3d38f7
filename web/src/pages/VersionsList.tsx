import { enc, qs } from '../api/client';
import { useApi } from '../api/use-api';
import { ErrorMessage } from '../components/ErrorMessage';
import { formatBytes } from '../components/format';
import { Loading } from '../components/Loading';

interface Version {
  versionId: string;
  isLatest: boolean;
  size?: number;
  lastModified: string;
  deleteMarker?: boolean;
}

/** Every version of one file, newest first. */
export function VersionsList({ bucket, objectKey }: { bucket: string; objectKey: string }) {
  const { data, error } = useApi<{ versions: Version[] }>(`/buckets/${enc(bucket)}/versions${qs({ key: objectKey })}`);
  if (error) return <ErrorMessage error={error} />;
  if (!data) return <Loading what="versions" />;
  return (
    <ul className="versions" aria-label={`Versions of ${objectKey}`}>
      {data.versions.map((v) => (
        <li key={v.versionId}>
          <code>{v.versionId}</code> {v.isLatest && <strong>latest</strong>}{' '}
          {v.deleteMarker ? 'deleted' : formatBytes(v.size ?? 0)} · {new Date(v.lastModified).toLocaleString()}
        </li>
      ))}
    </ul>
  );
}
