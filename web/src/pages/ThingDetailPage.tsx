import { useState, type FormEvent } from 'react';
import { enc, put } from '../api/client';
import { when, type ExecutionStatus, type GroupRef, type Page, type Thing } from '../api/types';
import { useAction, useApi } from '../api/use-api';
import { ErrorMessage } from '../components/ErrorMessage';
import { Field } from '../components/Field';
import { Loading } from '../components/Loading';
import { StatusBadge } from '../components/StatusBadge';
import { href } from '../router';
import { ThingStatus } from './ThingStatus';

interface ThingJob {
  jobId: string;
  jobExecutionSummary: { status: ExecutionStatus; executionNumber: number; lastUpdatedAt: number };
}

/** A thing: its groups (add and remove) and its jobs. */
export function ThingDetailPage({ thingName }: { thingName: string }) {
  const thing = useApi<{ thing: Thing; thingGroups: GroupRef[] }>(`/things/${enc(thingName)}`);
  const jobs = useApi<{ executionSummaries: ThingJob[] } & Page>(`/things/${enc(thingName)}/jobs?maxResults=50`);
  const [group, setGroup] = useState('');
  const change = useAction((body: { thingGroupsToAdd?: string[]; thingGroupsToRemove?: string[] }) =>
    put(`/things/${enc(thingName)}/groups`, body),
  );
  const add = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if ((await change.run({ thingGroupsToAdd: [group.trim()] })) !== undefined) {
      setGroup('');
      thing.reload();
    }
  };
  const remove = async (name: string): Promise<void> => {
    if ((await change.run({ thingGroupsToRemove: [name] })) !== undefined) thing.reload();
  };

  if (thing.error) return <ErrorMessage error={thing.error} />;
  if (!thing.data) return <Loading what={`thing ${thingName}`} />;
  return (
    <section aria-labelledby="thing-title">
      <nav className="crumbs" aria-label="Breadcrumb">
        <a href={href('/things')}>Things</a> / <span>{thingName}</span>
      </nav>
      <h1 id="thing-title">{thingName}</h1>
      <p className="muted">{thing.data.thing.thingArn}</p>
      <ThingStatus thingName={thingName} />
      <h2>Groups</h2>
      <ul className="chips">
        {thing.data.thingGroups.length === 0 && <li className="muted">In no group.</li>}
        {thing.data.thingGroups.map((g) => (
          <li key={g.groupName} className="chip">
            <a href={href(`/groups/${enc(g.groupName)}`)}>{g.groupName}</a>
            <button
              type="button"
              className="link"
              onClick={() => void remove(g.groupName)}
              aria-label={`Remove from ${g.groupName}`}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <form className="inline-form" onSubmit={add} aria-label="Add to a group">
        <Field label="Add to group" error={change.error?.forField('thingGroupsToAdd')}>
          {(a) => <input {...a} value={group} onChange={(e) => setGroup(e.target.value)} required />}
        </Field>
        <button type="submit" disabled={change.busy || group.trim() === ''}>
          Add
        </button>
      </form>
      <ErrorMessage error={change.error} onlyGeneral />
      <h2>Jobs</h2>
      <ErrorMessage error={jobs.error} />
      <div className="table-wrap">
        <table>
          <caption className="sr-only">Jobs of {thingName}</caption>
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Status</th>
              <th scope="col">Execution</th>
              <th scope="col">Last update</th>
            </tr>
          </thead>
          <tbody>
            {jobs.data?.executionSummaries.length === 0 && (
              <tr>
                <td colSpan={4} className="muted">
                  No jobs for this thing.
                </td>
              </tr>
            )}
            {jobs.data?.executionSummaries.map((j) => (
              <tr key={`${j.jobId}#${j.jobExecutionSummary.executionNumber}`}>
                <td>
                  <a href={href(`/jobs/${enc(j.jobId)}`)}>{j.jobId}</a>
                </td>
                <td>
                  <StatusBadge status={j.jobExecutionSummary.status} />
                </td>
                <td>#{j.jobExecutionSummary.executionNumber}</td>
                <td>{when(j.jobExecutionSummary.lastUpdatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
