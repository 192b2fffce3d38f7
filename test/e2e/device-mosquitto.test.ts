import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateJobCommand, DescribeJobExecutionCommand, type IoTClient } from '@aws-sdk/client-iot';
import { portOf, provisionDevice } from '../helpers/devices.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);

/** Debian's mosquitto clients (package mosquitto-clients), run unmodified. */
describe('mosquitto clients (mosquitto_rr, mosquitto_sub, mosquitto_pub)', () => {
  let t: TestServer;
  let iot: IoTClient;
  let dir: string;
  const thing = 'mosq-1';
  const base = `$aws/things/${thing}/jobs`;
  let tls: string[];

  beforeAll(async () => {
    t = await startTestServer();
    iot = t.iot();
    dir = mkdtempSync(join(tmpdir(), 'mosquitto-'));
    const dev = await provisionDevice(t, iot, thing);
    writeFileSync(join(dir, 'ca.pem'), dev.ca);
    writeFileSync(join(dir, 'dev.crt'), dev.cert);
    writeFileSync(join(dir, 'dev.key'), dev.key);
    tls = ['--cafile', join(dir, 'ca.pem'), '--cert', join(dir, 'dev.crt'), '--key', join(dir, 'dev.key')];
  });
  afterAll(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('mosquitto_rr (MQTT 5 request/response) gets its reply on its response topic, on 8883 and over ALPN', async () => {
    await iot.send(
      new CreateJobCommand({
        jobId: 'mosq-a',
        targets: [t.server.services.ctx.arns.thing(thing)],
        document: '{"a":1}',
      }),
    );
    const mqttPort = String(portOf(t.server.endpoints.mqtt!));
    // mosquitto_rr subscribes to its response topic (-e) and sends it with the request.
    const rrWith = async (port: string, topic: string, body: string, extra: string[] = []) => {
      const args = [...tls, ...extra, '-h', '127.0.0.1', '-p', port, '-i', thing, '-t', topic];
      const { stdout } = await run('mosquitto_rr', [...args, '-e', `${topic}/accepted`, '-m', body, '-W', '10'], {
        timeout: 15_000,
      }).catch((err: { stdout?: string; stderr?: string }) => {
        throw new Error(`mosquitto_rr failed: ${err.stderr ?? ''}${err.stdout ?? ''}`);
      });
      return JSON.parse(stdout) as Record<string, unknown>;
    };

    const pending = await rrWith(mqttPort, `${base}/get`, '{}');
    expect(pending).toMatchObject({ queuedJobs: [{ jobId: 'mosq-a' }] });

    const httpsPort = String(portOf(t.server.endpoints.deviceHttps!));
    const started = await rrWith(httpsPort, `${base}/start-next`, '{"clientToken":"rr"}', [
      '--tls-alpn',
      'x-amzn-mqtt-ca',
    ]);
    expect(started).toMatchObject({ clientToken: 'rr', execution: { jobId: 'mosq-a', status: 'IN_PROGRESS' } });
  });

  it('mosquitto_pub (MQTT 3.1.1) reports with a newline in statusDetails; mosquitto_sub hears notify-next', async () => {
    const mqttPort = String(portOf(t.server.endpoints.mqtt!));
    const v311 = [...tls, '-V', 'mqttv311', '-h', '127.0.0.1', '-p', mqttPort, '-i', thing];
    // mosq-a is IN_PROGRESS (the test above started it).
    await run('mosquitto_pub', [
      ...v311,
      '-t',
      `${base}/mosq-a/update`,
      '-q',
      '1',
      '-m',
      JSON.stringify({ status: 'SUCCEEDED', statusDetails: { stdout: 'done\n' } }),
    ]);
    await expect
      .poll(
        async () => (await iot.send(new DescribeJobExecutionCommand({ jobId: 'mosq-a', thingName: thing }))).execution,
      )
      .toMatchObject({ status: 'SUCCEEDED', statusDetails: { detailsMap: { stdout: 'done\n' } } });

    // -d prints the SUBACK, so the job is created only once the subscription is in place.
    // stdbuf: its debug lines would otherwise wait in a pipe buffer until it exits.
    const sub = spawn(
      'stdbuf',
      ['-oL', 'mosquitto_sub', ...v311, '-d', '-t', `${base}/notify-next`, '-q', '1', '-C', '1'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    sub.stdout.on('data', (c: Buffer) => (out += c.toString()));
    sub.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => sub.on('exit', (code) => resolve(code)));
    try {
      await expect.poll(() => out, { timeout: 10_000 }).toContain('SUBACK');
      // Nothing is pending, so the new job is the new head: notify-next.
      await iot.send(
        new CreateJobCommand({
          jobId: 'mosq-b',
          targets: [t.server.services.ctx.arns.thing(thing)],
          document: '{"b":1}',
        }),
      );
      expect(await exited).toBe(0);
    } finally {
      sub.kill();
    }
    const message = out.split('\n').find((line) => line.startsWith('{'));
    expect(JSON.parse(message ?? 'null')).toMatchObject({ execution: { jobId: 'mosq-b', status: 'QUEUED' } });
  });
});
