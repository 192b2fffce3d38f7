import type { Session } from './api/types';
import { BucketPage } from './pages/BucketPage';
import { CreateJobWizard } from './pages/create-job/CreateJobWizard';
import { CreateOtaPage } from './pages/create-job/CreateOtaPage';
import { FilesPage } from './pages/FilesPage';
import { GroupDetailPage } from './pages/GroupDetailPage';
import { GroupsPage } from './pages/GroupsPage';
import { JobDetailPage } from './pages/job-detail/JobDetailPage';
import { JobsListPage } from './pages/JobsListPage';
import { RoleDetailPage } from './pages/RoleDetailPage';
import { RolesPage } from './pages/RolesPage';
import { SigningPage } from './pages/SigningPage';
import { ThingDetailPage } from './pages/ThingDetailPage';
import { ThingsPage } from './pages/ThingsPage';
import { match } from './router';

/** The page for a path (the URL fragment). */
export function Routes({ path, session }: { path: string; session: Session }) {
  let p: Record<string, string> | undefined;
  if (match('/jobs', path)) return <JobsListPage />;
  if (match('/jobs/new', path)) return <CreateJobWizard session={session} />;
  if (match('/jobs/new-ota', path)) return <CreateOtaPage />;
  if ((p = match('/jobs/:jobId', path))) return <JobDetailPage key={p.jobId} jobId={p.jobId!} />;
  if (match('/things', path)) return <ThingsPage />;
  if ((p = match('/things/:thingName', path))) return <ThingDetailPage key={p.thingName} thingName={p.thingName!} />;
  if (match('/groups', path)) return <GroupsPage />;
  if ((p = match('/groups/:groupName', path))) return <GroupDetailPage key={p.groupName} groupName={p.groupName!} />;
  if (match('/files', path)) return <FilesPage />;
  if ((p = match('/files/:bucket', path))) return <BucketPage key={p.bucket} bucket={p.bucket!} />;
  if (match('/signing', path)) return <SigningPage />;
  if (match('/roles', path)) return <RolesPage session={session} />;
  if ((p = match('/roles/:roleName', path)))
    return <RoleDetailPage key={p.roleName} roleName={p.roleName!} session={session} />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. <a href="#/jobs">Go to the jobs</a>.
      </p>
    </section>
  );
}
