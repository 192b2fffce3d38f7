import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeJobCommand } from '@aws-sdk/client-iot';
import { adminConsole, ConsoleClient, EventReader } from '../helpers/console.js';
import { DIALECTS } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface JobPage {
  jobs: { jobId: string; status: string; jobProcessDetails?: Record<string, number> }[];
  nextToken?: string;
}
interface ExecutionPage {
  executionSummaries: { thingArn: string; jobExecutionSummary: { status: string } }[];
  nextToken?: string;
}
interface Snapshot {
  status: string;
  jobProcessDetails: Record<string, number>;
}

const ARN = 'arn:aws:iot:us-east-1:000000000000';

describe.each(DIALECTS)('console jobs API on %s', (dialect) => {
  let t: TestServer;
  let c: ConsoleClient;
  beforeAll(async () => {
    t = await startTestServer({ dialect });
    c = await adminConsole(t);
    await c.post('/groups', { thingGroupName: 'fleet' });
    for (let i = 1; i <= 5; i++) {
      await c.post('/things', { thingName: `dev-${i}` });
      await c.post('/groups/fleet/things', { thingName: `dev-${i}` });
    }
  });
  afterAll(async () => t?.stop());

  const createJob = (jobId: string, extra: Record<string, unknown> = {}) =>
    c.post('/jobs', {
      jobId,
      targets: [`${ARN}:thinggroup/fleet`],
      document: JSON.stringify({ operation: 'update', version: jobId }),
      ...extra,
    });

  it('creates a job with the jobs service, as the AWS API sees it', async () => {
    const res = await createJob('fw-1', { description: 'firmware 1' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ jobArn: `${ARN}:job/fw-1`, jobId: 'fw-1', description: 'firmware 1' });
    const viaSdk = await t.iot().send(new DescribeJobCommand({ jobId: 'fw-1' }));
    expect(viaSdk.job?.jobProcessDetails?.numberOfQueuedThings).toBe(5);
  });

  it('shows the service errors field by field', async () => {
    const res = await c.post('/jobs', { jobId: 'bad id', targets: [], document: '{' });
    expect(res.status).toBe(400);
    const fields = (res.body.fieldErrors as { field: string }[]).map((f) => f.field);
    expect(fields).toContain('jobId');
    const dup = await createJob('fw-1');
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('ResourceAlreadyExistsException');
  });

  it('lists jobs with their counters, filters by status and searches by id', async () => {
    await createJob('fw-2');
    await createJob('other-3');
    const all = await c.get<JobPage>('/jobs');
    expect(all.body.jobs.map((j) => j.jobId).sort()).toEqual(['fw-1', 'fw-2', 'other-3']);
    expect(all.body.jobs.find((j) => j.jobId === 'fw-1')?.jobProcessDetails?.numberOfQueuedThings).toBe(5);
    const search = await c.get<JobPage>('/jobs?search=FW-');
    expect(search.body.jobs.map((j) => j.jobId).sort()).toEqual(['fw-1', 'fw-2']);
    const completed = await c.get<JobPage>('/jobs?status=COMPLETED');
    expect(completed.body.jobs).toEqual([]);
    const bad = await c.get('/jobs?status=DONE');
    expect(bad.status).toBe(400);
    expect((bad.body.fieldErrors as { field: string }[])[0]?.field).toBe('status');
  });

  it('pages through executions with a status filter', async () => {
    const first = await c.get<ExecutionPage>('/jobs/fw-1/executions?maxResults=2');
    expect(first.body.executionSummaries).toHaveLength(2);
    const second = await c.get<ExecutionPage>(
      `/jobs/fw-1/executions?maxResults=2&nextToken=${encodeURIComponent(first.body.nextToken!)}`,
    );
    expect(second.body.executionSummaries.map((e) => e.thingArn)).toEqual([`${ARN}:thing/dev-3`, `${ARN}:thing/dev-4`]);
    await t.server.services.deviceJobs.updateJobExecution('dev-2', 'fw-1', { status: 'IN_PROGRESS' });
    const running = await c.get<ExecutionPage>('/jobs/fw-1/executions?status=IN_PROGRESS');
    expect(running.body.executionSummaries.map((e) => e.thingArn)).toEqual([`${ARN}:thing/dev-2`]);
  });

  it('shows an execution with its status details and the document a device gets', async () => {
    await t.server.services.deviceJobs.updateJobExecution('dev-2', 'fw-1', {
      status: 'IN_PROGRESS',
      statusDetails: { step: 'downloading' },
    });
    const ex = await c.get<{ execution: { status: string; statusDetails: unknown } }>('/jobs/fw-1/executions/dev-2');
    expect(ex.body.execution.status).toBe('IN_PROGRESS');
    expect(ex.body.execution.statusDetails).toEqual({ detailsMap: { step: 'downloading' } });
    const doc = await c.get<{ jobDocument: string }>('/jobs/fw-1/executions/dev-2/device-document');
    expect(JSON.parse(doc.body.jobDocument)).toEqual({ operation: 'update', version: 'fw-1' });
    expect((await c.get('/jobs/fw-1/executions/nobody/device-document')).status).toBe(404);
  });

  it('streams the counters live as devices report', async () => {
    const events = await EventReader.open(c, '/jobs/fw-2/events');
    try {
      expect(events.status).toBe(200);
      const first = (await events.next())!;
      expect(first.event).toBe('job');
      expect((first.data as Snapshot).jobProcessDetails.numberOfQueuedThings).toBe(5);
      for (let i = 1; i <= 5; i++) {
        await t.server.services.deviceJobs.updateJobExecution(`dev-${i}`, 'fw-2', { status: 'SUCCEEDED' });
      }
      const done = await events.until((e) => (e.data as Snapshot).status === 'COMPLETED');
      expect((done.data as Snapshot).jobProcessDetails.numberOfSucceededThings).toBe(5);
    } finally {
      events.close();
    }
  });

  it('answers 404 for the stream of an unknown job and 401 when signed out', async () => {
    const unknown = await EventReader.open(c, '/jobs/nope/events');
    expect(unknown.status).toBe(404);
    unknown.close();
    const anonymous = await EventReader.open(new ConsoleClient(c.endpoint), '/jobs/fw-1/events');
    expect(anonymous.status).toBe(401);
    anonymous.close();
  });

  it('cancels with force, reason code and comment; refuses a bad reason code next to its field', async () => {
    const bad = await c.post('/jobs/other-3/cancel', { reasonCode: 'not upper' });
    expect(bad.status).toBe(400);
    expect((bad.body.fieldErrors as { field: string }[]).map((f) => f.field)).toEqual(['reasonCode']);
    const res = await c.post('/jobs/other-3/cancel', { force: true, reasonCode: 'BAD_BUILD', comment: 'wrong image' });
    expect(res.status).toBe(200);
    const { body } = await c.get<{ job: Record<string, unknown> }>('/jobs/other-3');
    expect(body.job).toMatchObject({
      status: 'CANCELED',
      forceCanceled: true,
      reasonCode: 'BAD_BUILD',
      comment: 'wrong image',
    });
  });

  it('deletes a job only with force while it runs, and the stream says it is gone', async () => {
    const events = await EventReader.open(c, '/jobs/fw-1/events');
    try {
      await events.next();
      const refused = await c.delete('/jobs/fw-1');
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('InvalidStateTransitionException');
      expect((await c.request('DELETE', '/jobs/fw-1?force=true')).status).toBe(200);
      const gone = await events.until(
        (e) => e.event === 'deleted' || (e.data as Snapshot).status === 'DELETION_IN_PROGRESS',
      );
      expect(gone).toBeDefined();
    } finally {
      events.close();
    }
  });

  it('ends a live stream when its session signs out', async () => {
    const other = await adminConsole(t);
    const events = await EventReader.open(other, '/jobs/fw-2/events');
    await events.next();
    await other.delete('/session');
    const last = await events.until((e) => e.event !== 'job');
    expect(last.event).toBe('signed-out');
    expect(await events.next()).toBeUndefined();
  });

  it("lists a thing's jobs", async () => {
    const res = await c.get<{ executionSummaries: { jobId: string }[] }>('/things/dev-1/jobs');
    expect(res.body.executionSummaries.map((e) => e.jobId).sort()).toEqual(['fw-2', 'other-3']);
  });
});

describe('live job streams when the server stops', () => {
  it('are ended, so the listener can close', async () => {
    const t = await startTestServer();
    const c = await adminConsole(t);
    await c.post('/things', { thingName: 'dev-1' });
    await c.post('/jobs', { jobId: 'j', targets: [`${ARN}:thing/dev-1`], document: '{}' });
    const events = await EventReader.open(c, '/jobs/j/events');
    expect((await events.next())?.event).toBe('job');
    const stopped = t.stop();
    expect(await events.next()).toBeUndefined();
    await stopped;
  });
});
