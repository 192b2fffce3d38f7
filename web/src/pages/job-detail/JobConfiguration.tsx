import { enc } from '../../api/client';
import type { Job } from '../../api/types';
import { useApi } from '../../api/use-api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { SettingsList } from '../../components/SettingsList';
import { SigningJobsList } from '../SigningJobsList';

const pretty = (text: string): string => {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
};

/** The members of a job that are settings (the rest is shown at the top of the page). */
function configOf(job: Job): Record<string, unknown> {
  const { presignedUrlConfig, jobExecutionsRolloutConfig, abortConfig, timeoutConfig } = job;
  const { jobExecutionsRetryConfig, schedulingConfig, stagedRollout } = job;
  return Object.fromEntries(
    Object.entries({
      presignedUrlConfig,
      jobExecutionsRolloutConfig,
      abortConfig,
      timeoutConfig,
      jobExecutionsRetryConfig,
      schedulingConfig,
      stagedRollout,
    }).filter(([, v]) => v !== undefined),
  );
}

/** The stored document, its code signatures and the settings in words (the raw ones a click away). */
export function JobConfiguration({ jobId, job, documentSource }: { jobId: string; job: Job; documentSource?: string }) {
  const doc = useApi<{ document: string }>(`/jobs/${enc(jobId)}/document`);
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
      <SigningJobsList jobId={jobId} />
      <h2>Configuration</h2>
      <SettingsList job={configOf(job)} rawLabel="As DescribeJob returns it" />
    </section>
  );
}
