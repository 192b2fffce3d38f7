import { qs } from '../api/client';
import { when } from '../api/types';
import { useApi } from '../api/use-api';
import { ErrorMessage } from '../components/ErrorMessage';

interface SigningJob {
  jobId: string;
  status: string;
  profileName: string;
  createdAt: number;
  source: { s3: { bucketName: string; key: string; version: string } };
}

/** The signing jobs, newest first; with `jobId`, those made for that job when it was created. */
export function SigningJobsList({ jobId }: { jobId?: string }) {
  const jobs = useApi<{ jobs: SigningJob[] }>(`/signing/jobs${qs({ jobId })}`);
  if (jobId && jobs.data?.jobs.length === 0) return null;
  return (
    <section aria-labelledby="signing-jobs-title">
      <h2 id="signing-jobs-title">{jobId ? 'Code signatures' : 'Signing jobs'}</h2>
      <ErrorMessage error={jobs.error} />
      <div className="table-wrap">
        <table>
          <caption className="sr-only">Signing jobs</caption>
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">Profile</th>
              <th scope="col">Status</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {jobs.data?.jobs.length === 0 && (
              <tr>
                <td colSpan={4} className="muted">
                  Nothing signed yet.
                </td>
              </tr>
            )}
            {jobs.data?.jobs.map((j) => (
              <tr key={j.jobId}>
                <td>
                  s3://{j.source.s3.bucketName}/{j.source.s3.key}{' '}
                  <span className="muted small">version {j.source.s3.version}</span>
                </td>
                <td>{j.profileName}</td>
                <td>{j.status}</td>
                <td>{when(j.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
