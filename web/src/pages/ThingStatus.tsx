import { enc } from '../api/client';
import { when } from '../api/types';
import { useApi } from '../api/use-api';
import { Connection, type Connectivity } from '../components/Connection';
import { ErrorMessage } from '../components/ErrorMessage';

interface Status {
  connectivity?: Connectivity;
  certificates: { certificateId: string; status: string; validity?: { notBefore: number; notAfter: number } }[];
}

/** A thing's connection and its certificates' status (what lets the device connect at all). */
export function ThingStatus({ thingName }: { thingName: string }) {
  const { data, error } = useApi<Status>(`/things/${enc(thingName)}/status`);
  if (error) return <ErrorMessage error={error} />;
  if (!data) return null;
  return (
    <dl className="pairs summary" aria-label="Device status">
      <dt>Connection</dt>
      <dd>
        <Connection connectivity={data.connectivity} />
      </dd>
      <dt>Certificates</dt>
      <dd>
        {data.certificates.length === 0 ? (
          'none attached: the device cannot connect'
        ) : (
          <ul className="plain">
            {data.certificates.map((c) => (
              <li key={c.certificateId}>
                <code>{c.certificateId.slice(0, 12)}…</code> {c.status}
                {c.validity && `, valid until ${when(c.validity.notAfter)}`}
              </li>
            ))}
          </ul>
        )}
      </dd>
    </dl>
  );
}
