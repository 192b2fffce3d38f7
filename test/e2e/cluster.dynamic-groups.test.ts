import { readFileSync } from 'node:fs';
import {
  AttachThingPrincipalCommand,
  CreateDynamicThingGroupCommand,
  CreateJobCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  ListJobExecutionsForJobCommand,
  SearchIndexCommand,
  UpdateIndexingConfigurationCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Inbox, request } from '../helpers/devices.js';
import { clusterEngines, startReplica, type ClusterEngines, type Replica } from '../helpers/cluster.js';

/**
 * Issue 19 on two replicas (one PostgreSQL, one Redis): a device connected to replica B is
 * connected in the index replica A searches, joins A's dynamic group and gets A's CONTINUOUS job
 * over B's broker; when it disconnects it leaves the group and its pending execution is REMOVED.
 */
describe('dynamic groups and connectivity on two replicas', () => {
  let e: ClusterEngines;
  let r: Replica[];
  let a: IoTClient;
  let b: IoTClient;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    e = await clusterEngines();
    r = await Promise.all([0, 1].map(() => startReplica(e.shared)));
    a = r[0]!.iot();
    b = r[1]!.iot();
  }, 120_000);
  afterAll(async () => {
    for (const c of clients) c.end(true);
    for (const x of r ?? []) await x.stop();
    await e?.close();
  });

  const status = async (thing: string): Promise<string | undefined> =>
    (await a.send(new ListJobExecutionsForJobCommand({ jobId: 'online-x2' }))).executionSummaries?.find((s) =>
      s.thingArn!.endsWith(`/${thing}`),
    )?.jobExecutionSummary?.status;

  it('follows connectivity fed by the other replica, with a CONTINUOUS job', async () => {
    await b.send(
      new UpdateIndexingConfigurationCommand({
        thingIndexingConfiguration: { thingIndexingMode: 'REGISTRY', thingConnectivityIndexingMode: 'STATUS' },
      }),
    );
    const keys = await a.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    for (const name of ['pump-a', 'pump-b']) {
      await a.send(new CreateThingCommand({ thingName: name, attributePayload: { attributes: { model: 'x2' } } }));
      await a.send(new AttachThingPrincipalCommand({ thingName: name, principal: keys.certificateArn! }));
    }
    const group = await a.send(
      new CreateDynamicThingGroupCommand({
        thingGroupName: 'online-x2',
        queryString: 'attributes.model:x2 AND connectivity.connected:true',
      }),
    );
    await a.send(
      new CreateJobCommand({
        jobId: 'online-x2',
        targets: [group.thingGroupArn!],
        document: JSON.stringify({ operation: 'install' }),
        targetSelection: 'CONTINUOUS',
      }),
    );
    expect(await status('pump-b')).toBeUndefined();

    const x = r[1]!;
    const client = await mqtt.connectAsync(x.server.endpoints.mqtt!, {
      clientId: 'pump-b',
      cert: keys.certificatePem!,
      key: keys.keyPair!.PrivateKey!,
      ca: readFileSync(x.server.endpoints.caCertificate!, 'utf8'),
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    clients.push(client);
    // Replica B recorded the connect before its CONNACK; replica A sees it.
    const found = await a.send(new SearchIndexCommand({ queryString: 'connectivity.connected:true' }));
    expect(found.things?.map((t) => t.thingName)).toEqual(['pump-b']);
    expect(await status('pump-b')).toBe('QUEUED');
    expect(await status('pump-a')).toBeUndefined();
    const inbox = new Inbox(client);
    await client.subscribeAsync('$aws/things/pump-b/jobs/get/+', { qos: 1 });
    const pending = await request(client, inbox, '$aws/things/pump-b/jobs/get', {});
    expect(pending.topic).toBe('$aws/things/pump-b/jobs/get/accepted');
    expect((pending.payload.queuedJobs as { jobId: string }[]).map((j) => j.jobId)).toEqual(['online-x2']);

    await client.endAsync();
    await vi.waitFor(async () => expect(await status('pump-b')).toBe('REMOVED'), { timeout: 15_000, interval: 100 });
    const after = await a.send(new SearchIndexCommand({ queryString: 'thingName:pump-b' }));
    expect(after.things?.[0]?.connectivity).toMatchObject({ connected: false });
  }, 120_000);
});
