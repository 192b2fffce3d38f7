import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelJobCommand, CreateJobCommand, type IoTClient } from '@aws-sdk/client-iot';
import type { MqttClient } from 'mqtt';
import { connectDevice, Inbox, provisionDevice, request, type Device } from '../helpers/devices.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const thingArn = (name: string): string => `arn:aws:iot:us-east-1:000000000000:thing/${name}`;
const isInt = expect.any(Number);

describe('jobs topics over MQTT (spec 5.2-5.5, 5.7)', () => {
  let t: TestServer;
  let iot: IoTClient;
  let dev: Device;
  let client: MqttClient;
  let inbox: Inbox;
  const base = '$aws/things/topics-1/jobs';
  const createJob = (jobId: string, document: object = { op: jobId }, extra: object = {}) =>
    iot.send(
      new CreateJobCommand({ jobId, targets: [thingArn('topics-1')], document: JSON.stringify(document), ...extra }),
    );

  beforeAll(async () => {
    t = await startTestServer();
    iot = t.iot();
    dev = await provisionDevice(t, iot, 'topics-1');
    client = await connectDevice(t, dev, 'topics-1');
    inbox = new Inbox(client);
  });
  afterAll(async () => {
    client?.end(true);
    await t?.stop();
  });

  it('answers get with both lists and no clientToken when none was sent, without any subscription', async () => {
    const reply = await request(client, inbox, `${base}/get`, {});
    expect(reply).toEqual({
      topic: `${base}/get/accepted`,
      payload: { timestamp: isInt, inProgressJobs: [], queuedJobs: [] },
    });
    expect(Number.isInteger(reply.payload.timestamp)).toBe(true);
    expect(
      Object.keys(await request(client, inbox, `${base}/get`, { clientToken: 'tok-1' }).then((r) => r.payload)),
    ).toEqual(['clientToken', 'timestamp', 'inProgressJobs', 'queuedJobs']);
  });

  it('start-next starts the oldest QUEUED job; jobDocument is an object; calling it again returns the same execution', async () => {
    await createJob('t-1', { step: 'one', nested: { a: [1, 2] } });
    await createJob('t-2');
    const empty = await request(client, inbox, `${base}/start-next`, {
      clientToken: 'c1',
      statusDetails: { phase: 'dl' },
    });
    expect(empty.topic).toBe(`${base}/start-next/accepted`);
    expect(empty.payload).toEqual({
      clientToken: 'c1',
      timestamp: isInt,
      execution: {
        jobId: 't-1',
        status: 'IN_PROGRESS',
        statusDetails: { phase: 'dl' },
        queuedAt: isInt,
        startedAt: isInt,
        lastUpdatedAt: isInt,
        versionNumber: 2,
        executionNumber: 1,
        jobDocument: { step: 'one', nested: { a: [1, 2] } },
      },
    });
    const again = await request(client, inbox, `${base}/start-next`, { statusDetails: { phase: 'other' } });
    expect(again.payload.execution).toMatchObject({ jobId: 't-1', versionNumber: 2, statusDetails: { phase: 'dl' } });
    expect(again.payload).not.toHaveProperty('clientToken');
  });

  it('$next/get and <jobId>/get describe executions; the reply topic keeps the literal $next', async () => {
    const next = await request(client, inbox, `${base}/$next/get`, { clientToken: '0:topics-1' });
    expect(next.topic).toBe(`${base}/$next/get/accepted`);
    expect(next.payload).toMatchObject({
      clientToken: '0:topics-1',
      execution: { jobId: 't-1', status: 'IN_PROGRESS' },
    });
    expect(next.payload.execution).not.toHaveProperty('thingName');
    const two = await request(client, inbox, `${base}/t-2/get`, { includeJobDocument: false, executionNumber: 1 });
    expect(two.payload.execution).toEqual({
      jobId: 't-2',
      status: 'QUEUED',
      queuedAt: isInt,
      lastUpdatedAt: isInt,
      versionNumber: 1,
      executionNumber: 1,
    });
    const missing = await request(client, inbox, `${base}/nope/get`, { clientToken: 'x' });
    expect(missing).toEqual({
      topic: `${base}/nope/get/rejected`,
      payload: { code: 'ResourceNotFound', message: expect.any(String), clientToken: 'x', timestamp: isInt },
    });
  });

  it('update accepts expectedVersion as a number or a string and answers with the state and document asked for', async () => {
    const up = await request(client, inbox, `${base}/t-1/update`, {
      status: 'IN_PROGRESS',
      expectedVersion: '2',
      statusDetails: { progress: '50' },
      includeJobExecutionState: true,
      includeJobDocument: true,
      stepTimeoutInMinutes: 10,
      clientToken: 'u1',
    });
    expect(up).toEqual({
      topic: `${base}/t-1/update/accepted`,
      payload: {
        clientToken: 'u1',
        timestamp: isInt,
        executionState: { status: 'IN_PROGRESS', statusDetails: { progress: '50' }, versionNumber: 3 },
        jobDocument: { step: 'one', nested: { a: [1, 2] } },
      },
    });
    const described = await request(client, inbox, `${base}/t-1/get`, {});
    expect(described.payload.execution).toMatchObject({ approximateSecondsBeforeTimedOut: expect.any(Number) });
    const minimal = await request(client, inbox, `${base}/t-1/update`, { status: 'SUCCEEDED', expectedVersion: 3 });
    expect(minimal.payload).toEqual({ timestamp: isInt });
  });

  it('rejects with executionState for VersionMismatch and InvalidStateTransition (spec 5.5)', async () => {
    const mismatch = await request(client, inbox, `${base}/t-2/update`, {
      status: 'IN_PROGRESS',
      expectedVersion: 7,
      clientToken: 'vm',
    });
    expect(mismatch).toEqual({
      topic: `${base}/t-2/update/rejected`,
      payload: {
        code: 'VersionMismatch',
        message: expect.any(String),
        clientToken: 'vm',
        timestamp: isInt,
        executionState: { status: 'QUEUED', versionNumber: 1, statusDetails: {} },
      },
    });
    const terminal = await request(client, inbox, `${base}/t-1/update`, { status: 'IN_PROGRESS' });
    expect(terminal.payload).toMatchObject({
      code: 'InvalidStateTransition',
      executionState: { status: 'SUCCEEDED', versionNumber: 4 },
    });
  });

  it.each([
    ['InvalidJson', `${base}/get`, 'not json at all'],
    ['InvalidJson', `${base}/get`, '[1,2]'],
    ['InvalidTopic', `${base}/t-2/frobnicate`, '{}'],
    ['InvalidTopic', `${base}/a/b/c/d`, '{}'],
    ['InvalidRequest', `${base}/t-2/update`, JSON.stringify({ status: 'DONE' })],
    ['InvalidRequest', `${base}/t-2/update`, JSON.stringify({ status: 'CANCELED' })],
    ['InvalidRequest', `${base}/t-2/update`, JSON.stringify({})],
    [
      'InvalidRequest',
      `${base}/t-2/update`,
      JSON.stringify({
        status: 'IN_PROGRESS',
        statusDetails: Object.fromEntries([...Array(11).keys()].map((i) => [`k${i}`, 'v'])),
      }),
    ],
    [
      'InvalidRequest',
      `${base}/t-2/update`,
      JSON.stringify({ status: 'IN_PROGRESS', statusDetails: { 'bad key!': 'v' } }),
    ],
    ['InvalidRequest', `${base}/t-2/update`, JSON.stringify({ status: 'IN_PROGRESS', expectedVersion: 'two' })],
    ['InvalidRequest', `${base}/start-next`, JSON.stringify({ stepTimeoutInMinutes: 'ten' })],
    ['InvalidRequest', `${base}/t-2/get`, JSON.stringify({ executionNumber: 'one' })],
    ['ResourceNotFound', `${base}/t-9/update`, JSON.stringify({ status: 'SUCCEEDED' })],
  ])('rejects with %s: %s %s', async (code, topic, payload) => {
    const reply = await request(client, inbox, topic, payload);
    expect(reply.topic).toBe(`${topic}/rejected`);
    expect(reply.payload).toMatchObject({ code, message: expect.any(String), timestamp: isInt });
    expect(reply.payload).not.toHaveProperty('executionState');
  });

  it('delivers a reply once to a client subscribed to it twice over (exact and wildcard)', async () => {
    await client.subscribeAsync([`${base}/get/accepted`, `${base}/get/+`, `${base}/#`], { qos: 1 });
    const from = inbox.messages.length;
    await request(client, inbox, `${base}/get`, { clientToken: 'once' });
    await request(client, inbox, `${base}/get`, { clientToken: 'twice' });
    const replies = inbox.messages.slice(from).filter((m) => m.topic.startsWith(`${base}/get`));
    expect(replies.map((m) => m.payload.clientToken)).toEqual(['once', 'twice']);
    await client.unsubscribeAsync([`${base}/get/accepted`, `${base}/get/+`, `${base}/#`]);
  });

  it('throttles a flood of requests from one thing with RequestThrottled', async () => {
    const from = inbox.messages.length;
    for (let i = 0; i < 200; i++) client.publish(`${base}/get`, JSON.stringify({ clientToken: `f${i}` }), { qos: 0 });
    await inbox.next((m) => m.payload.clientToken === 'f199');
    const replies = inbox.messages.slice(from);
    const throttled = replies.filter((m) => m.payload.code === 'RequestThrottled');
    expect(throttled.length).toBeGreaterThan(0);
    expect(throttled[0]?.topic).toBe(`${base}/get/rejected`);
    expect(replies.filter((m) => m.topic === `${base}/get/accepted`).length).toBeGreaterThan(0);
  });

  it('serves namespaced jobs on the namespace topics only (spec 5.7)', async () => {
    const ns = await provisionDevice(t, iot, 'ns-1');
    const c = await connectDevice(t, ns, 'ns-1');
    const box = new Inbox(c);
    await c.subscribeAsync(['$aws/things/ns-1/jobs/notify-namespace-gg', '$aws/things/ns-1/jobs/notify'], { qos: 1 });
    await iot.send(
      new CreateJobCommand({
        jobId: 'ns-job',
        targets: [thingArn('ns-1')],
        document: '{"ns":true}',
        namespaceId: 'gg',
      }),
    );
    const notify = await box.next('$aws/things/ns-1/jobs/notify-namespace-gg');
    expect(notify.payload).toMatchObject({ jobs: { QUEUED: [expect.objectContaining({ jobId: 'ns-job' })] } });
    const next = await request(c, box, '$aws/things/ns-1/jobs/$next/namespace-gg/get', {});
    expect(next.topic).toBe('$aws/things/ns-1/jobs/$next/namespace-gg/get/accepted');
    expect(next.payload.execution).toMatchObject({ jobId: 'ns-job', jobDocument: { ns: true } });
    // Not on the plain topics.
    expect((await request(c, box, '$aws/things/ns-1/jobs/$next/get', {})).payload).not.toHaveProperty('execution');
    const done = await request(c, box, '$aws/things/ns-1/jobs/ns-job/namespace-gg/update', { status: 'SUCCEEDED' });
    expect(done.topic).toBe('$aws/things/ns-1/jobs/ns-job/namespace-gg/update/accepted');
    await box.next((m) => m.topic.endsWith('notify-namespace-gg') && JSON.stringify(m.payload.jobs) === '{}');
    expect(box.on('$aws/things/ns-1/jobs/notify')).toEqual([]);
    c.end(true);
  });

  it('cancel of a job notifies the thing', async () => {
    const d = await provisionDevice(t, iot, 'cancel-1');
    const c = await connectDevice(t, d, 'cancel-1');
    const box = new Inbox(c);
    await c.subscribeAsync(['$aws/things/cancel-1/jobs/notify', '$aws/things/cancel-1/jobs/notify-next'], { qos: 1 });
    await iot.send(new CreateJobCommand({ jobId: 'to-cancel', targets: [thingArn('cancel-1')], document: '{}' }));
    await box.next('$aws/things/cancel-1/jobs/notify-next');
    const from = box.messages.length;
    await iot.send(new CancelJobCommand({ jobId: 'to-cancel' }));
    const gone = await box.next((m) => m.topic.endsWith('/notify-next') && !('execution' in m.payload), from);
    expect(gone.payload).toEqual({ timestamp: isInt });
    const notify = await box.next((m) => m.topic.endsWith('/notify') && JSON.stringify(m.payload.jobs) === '{}', from);
    expect(notify.payload).toEqual({ timestamp: isInt, jobs: {} });
    c.end(true);
  });
});
