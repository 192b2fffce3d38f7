import { enc } from '../../api/client';
import type { Job } from '../../api/types';
import { useApi } from '../../api/use-api';
import { ErrorMessage } from '../../components/ErrorMessage';

const CONFIGS = [
  ['presignedUrlConfig', 'Presigned URLs'],
  ['jobExecutionsRolloutConfig', 'Rollout'],
  ['abortConfig', 'Abort'],
  ['timeoutConfig', 'Timeout'],
  ['jobExecutionsRetryConfig', 'Retries'],
  ['schedulingConfig', 'Scheduling'],
  ['stagedRollout', 'Staged waves'],
] as const;

const pretty = (text: string): string => {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
};

/** The stored document and the advanced configurations, as the service keeps them. */
export function JobConfiguration({ jobId, job, documentSource }: { jobId: string; job: Job; documentSource?: string }) {
  const doc = useApi<{ document: string }>(`/jobs/${enc(jobId)}/document`);
  const set = CONFIGS.filter(([k]) => job[k] !== undefined && Object.keys(job[k] ?? {}).length > 0);
  return (
    <section aria-labelledby="config-title">
      <h2 id="config-title">Stored document</h2>
      {documentSource && <p className="muted">Read from {documentSource} when the job was created.</p>}
      <ErrorMessage error={doc.error} />
      {doc.data && (
        <pre className="code" tabIndex={0} aria-label="Stored job document">
          {pretty(doc.data.document)}
        </pre>
      )}
      <h2>Configuration</h2>
      {set.length === 0 ? (
        <p className="muted">No advanced configuration.</p>
      ) : (
        <dl className="configs">
          {set.map(([k, label]) => (
            <div key={k}>
              <dt>{label}</dt>
              <dd>
                <pre className="code small">{JSON.stringify(job[k], null, 2)}</pre>
              </dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}
