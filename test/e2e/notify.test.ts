import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddThingToThingGroupCommand,
  CreateJobCommand,
  CreateThingGroupCommand,
  DeleteJobCommand,
  RemoveThingFromThingGroupCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import type { MqttClient } from 'mqtt';
import { connectDevice, Inbox, provisionDevice, request, type Message } from '../helpers/devices.js';
import { DIALECTS } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const thingArn = (name: string): string => `arn:aws:iot:us-east-1:000000000000:thing/${name}`;
const ts = expect.any(Number);
const summary = (jobId: string, versionNumber: number, started = false) => ({
  jobId,
  queuedAt: ts,
  ...(started && { startedAt: ts }),
  lastUpdatedAt: ts,
  executionNumber: 1,
  versionNumber,
});

describe.each(DIALECTS)('notify and notify-next (spec 5.6) on %s', (dialect) => {
  let t: TestServer;
  let iot: IoTClient;
  const clients: MqttClient[] = [];
  beforeAll(async () => {
    t = await startTestServer({ dialect });
    iot = t.iot();
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await t?.stop();
  });

  async function device(thingName: string) {
    const d = await provisionDevice(t, iot, thingName);
    const client = await connectDevice(t, d, thingName);
    clients.push(client);
    const inbox = new Inbox(client);
    const base = `$aws/things/${thingName}/jobs`;
    /**
     * The notifications published since `from`, once the notifier has caught up: a request round
     * trip on the same connection comes back after anything published before it.
     */
    const notificationsSince = async (from: number): Promise<Message[]> => {
      await t.server.devicePlane.notifier.drain();
      await request(client, inbox, `${base}/get`, { clientToken: 'barrier' });
      return inbox.messages
        .slice(from)
        .filter((m) => m.topic === `${base}/notify` || m.topic === `${base}/notify-next`);
    };
    return { client, inbox, base, notificationsSince };
  }
  const createJob = (thingName: string, jobId: string) =>
    iot.send(new CreateJobCommand({ jobId, targets: [thingArn(thingName)], document: JSON.stringify({ id: jobId }) }));

  it('publishes exactly the live example sequence', async () => {
    const { client, inbox, base, notificationsSince } = await device('seq-1');
    await client.subscribeAsync([`${base}/notify`, `${base}/notify-next`], { qos: 1 });
    expect(await notificationsSince(0)).toEqual([]);

    let from = inbox.messages.length;
    await createJob('seq-1', 'J1');
    expect(await notificationsSince(from)).toEqual([
      { topic: `${base}/notify`, payload: { timestamp: ts, jobs: { QUEUED: [summary('J1', 1)] } } },
      {
        topic: `${base}/notify-next`,
        payload: {
          timestamp: ts,
          execution: {
            jobId: 'J1',
            status: 'QUEUED',
            queuedAt: ts,
            lastUpdatedAt: ts,
            versionNumber: 1,
            executionNumber: 1,
            jobDocument: { id: 'J1' },
          },
        },
      },
    ]);

    from = inbox.messages.length;
    await createJob('seq-1', 'J2');
    expect(await notificationsSince(from)).toEqual([
      { topic: `${base}/notify`, payload: { timestamp: ts, jobs: { QUEUED: [summary('J1', 1), summary('J2', 1)] } } },
    ]);

    from = inbox.messages.length;
    await request(client, inbox, `${base}/start-next`, {});
    expect(await notificationsSince(from)).toEqual([]);

    from = inbox.messages.length;
    await request(client, inbox, `${base}/J1/update`, { status: 'SUCCEEDED' });
    expect(await notificationsSince(from)).toEqual([
      { topic: `${base}/notify`, payload: { timestamp: ts, jobs: { QUEUED: [summary('J2', 1)] } } },
      {
        topic: `${base}/notify-next`,
        payload: {
          timestamp: ts,
          execution: expect.objectContaining({ jobId: 'J2', status: 'QUEUED', jobDocument: { id: 'J2' } }),
        },
      },
    ]);

    from = inbox.messages.length;
    await request(client, inbox, `${base}/start-next`, {});
    // Detail and version changes of the head announce nothing either.
    await request(client, inbox, `${base}/J2/update`, { status: 'IN_PROGRESS', statusDetails: { p: '1' } });
    expect(await notificationsSince(from)).toEqual([]);

    from = inbox.messages.length;
    await request(client, inbox, `${base}/J2/update`, { status: 'FAILED' });
    expect(await notificationsSince(from)).toEqual([
      { topic: `${base}/notify`, payload: { timestamp: ts, jobs: {} } },
      { topic: `${base}/notify-next`, payload: { timestamp: ts } },
    ]);
  });

  it('lists at most 10 executions, IN_PROGRESS first, and moves the head when a QUEUED job is started by update', async () => {
    const { client, inbox, base, notificationsSince } = await device('many-1');
    await client.subscribeAsync([`${base}/notify`, `${base}/notify-next`], { qos: 1 });
    for (let i = 1; i <= 12; i++) await createJob('many-1', `M${String(i).padStart(2, '0')}`);
    let all = await notificationsSince(0);
    const last = all.filter((m) => m.topic.endsWith('/notify')).at(-1)!;
    const queued = (last.payload.jobs as { QUEUED: { jobId: string }[] }).QUEUED;
    expect(queued.map((s) => s.jobId)).toEqual([...Array(10).keys()].map((i) => `M${String(i + 1).padStart(2, '0')}`));
    expect(last.payload.jobs).not.toHaveProperty('IN_PROGRESS');
    // One notify-next only: the head was M01 throughout.
    expect(all.filter((m) => m.topic.endsWith('/notify-next'))).toHaveLength(1);

    // A non-head QUEUED job started by an update becomes the head (IN_PROGRESS sorts first).
    let from = inbox.messages.length;
    await request(client, inbox, `${base}/M05/update`, { status: 'IN_PROGRESS' });
    all = await notificationsSince(from);
    expect(all).toEqual([
      {
        topic: `${base}/notify-next`,
        payload: { timestamp: ts, execution: expect.objectContaining({ jobId: 'M05', status: 'IN_PROGRESS' }) },
      },
    ]);
    // M01 leaves the set: the list (still 10 long) now starts with the IN_PROGRESS head.
    from = inbox.messages.length;
    await request(client, inbox, `${base}/M01/update`, { status: 'REJECTED' });
    const [notify, ...rest] = await notificationsSince(from);
    expect(rest).toEqual([]);
    const jobs = notify!.payload.jobs as { IN_PROGRESS: { jobId: string }[]; QUEUED: { jobId: string }[] };
    expect(Object.keys(jobs)).toEqual(['IN_PROGRESS', 'QUEUED']);
    expect(jobs.IN_PROGRESS.map((s) => s.jobId)).toEqual(['M05']);
    expect(jobs.QUEUED.map((s) => s.jobId)).toEqual(['M02', 'M03', 'M04', 'M06', 'M07', 'M08', 'M09', 'M10', 'M11']);
  });

  it('nothing is published when a device subscribes (spec 5.6); it asks with $next/get and get', async () => {
    const d = await provisionDevice(t, iot, `late-${dialect}`);
    const base = `$aws/things/late-${dialect}/jobs`;
    await createJob(`late-${dialect}`, 'L1');
    await t.server.devicePlane.notifier.drain();
    // Connects after the job was announced to nobody.
    const client = await connectDevice(t, d, `late-${dialect}`);
    clients.push(client);
    const inbox = new Inbox(client);
    await client.subscribeAsync([`${base}/notify-next`, `${base}/notify`], { qos: 1 });
    // A push here made the aws-iot-device-sdk v1 jobs agent run the job twice: it also asks
    // $next/get on start. The request below is answered after anything the subscription sent.
    const next = await request(client, inbox, `${base}/$next/get`, {});
    expect(next.payload).toMatchObject({ execution: { jobId: 'L1', status: 'QUEUED', jobDocument: { id: 'L1' } } });
    expect((await request(client, inbox, `${base}/get`, {})).payload).toMatchObject({
      queuedJobs: [{ jobId: 'L1' }],
    });
    expect(inbox.messages.filter((m) => m.topic === `${base}/notify` || m.topic === `${base}/notify-next`)).toEqual([]);
  });

  it('control-plane changes announce: CONTINUOUS group membership, force-delete of a job', async () => {
    const { client, inbox, base, notificationsSince } = await device(`cont-${dialect}`);
    const thing = `cont-${dialect}`;
    await client.subscribeAsync([`${base}/notify`, `${base}/notify-next`], { qos: 1 });
    await iot.send(new CreateThingGroupCommand({ thingGroupName: `grp-${dialect}` }));
    await iot.send(
      new CreateJobCommand({
        jobId: `cont-job-${dialect}`,
        targets: [`arn:aws:iot:us-east-1:000000000000:thinggroup/grp-${dialect}`],
        targetSelection: 'CONTINUOUS',
        document: '{"c":1}',
      }),
    );
    let from = inbox.messages.length;
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: `grp-${dialect}`, thingName: thing }));
    expect(await notificationsSince(from)).toEqual([
      { topic: `${base}/notify`, payload: { timestamp: ts, jobs: { QUEUED: [summary(`cont-job-${dialect}`, 1)] } } },
      {
        topic: `${base}/notify-next`,
        payload: { timestamp: ts, execution: expect.objectContaining({ jobDocument: { c: 1 } }) },
      },
    ]);
    from = inbox.messages.length;
    await iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: `grp-${dialect}`, thingName: thing }));
    expect(await notificationsSince(from)).toEqual([
      { topic: `${base}/notify`, payload: { timestamp: ts, jobs: {} } },
      { topic: `${base}/notify-next`, payload: { timestamp: ts } },
    ]);

    from = inbox.messages.length;
    await createJob(thing, `del-job-${dialect}`);
    expect(await notificationsSince(from)).toHaveLength(2);
    await request(client, inbox, `${base}/start-next`, {});
    from = inbox.messages.length;
    await iot.send(new DeleteJobCommand({ jobId: `del-job-${dialect}`, force: true }));
    // The deletion finishes in the background (DELETION_IN_PROGRESS first).
    await expect.poll(async () => (await notificationsSince(from)).length, { timeout: 10_000 }).toBe(2);
    expect(await notificationsSince(from)).toEqual([
      { topic: `${base}/notify`, payload: { timestamp: ts, jobs: {} } },
      { topic: `${base}/notify-next`, payload: { timestamp: ts } },
    ]);
  });

  it('queues notifications for a persistent session that is offline (QoS 1)', async () => {
    const d = await provisionDevice(t, iot, 'offline-1');
    const base = '$aws/things/offline-1/jobs';
    let client = await connectDevice(t, d, 'offline-1', { clean: false });
    await client.subscribeAsync(`${base}/notify`, { qos: 1 });
    await client.endAsync();
    await createJob('offline-1', 'O1');
    await t.server.devicePlane.notifier.drain();
    client = await connectDevice(t, d, 'offline-1', { clean: false });
    clients.push(client);
    const inbox = new Inbox(client);
    expect((await inbox.next(`${base}/notify`, 0)).payload).toEqual({
      timestamp: ts,
      jobs: { QUEUED: [summary('O1', 1)] },
    });
  });
});
