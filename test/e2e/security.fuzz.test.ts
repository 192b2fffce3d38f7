import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateJobCommand, CreateThingGroupCommand, type IoTClient } from '@aws-sdk/client-iot';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDevice, provisionDevice } from '../helpers/devices.js';
import { fuzzLabel, fuzzString, fuzzValue, MODEL_OPERATIONS, Rng } from '../helpers/fuzz.js';
import { DIALECTS } from '../helpers/postgres.js';
import { s3Client } from '../helpers/s3.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';
import { send, signedRequest, type SignedReply } from '../helpers/signed.js';

/**
 * A bounded, seeded fuzz of every listener's input (issue 14): signed control-plane, data-plane,
 * Signer, S3 and IAM requests with random labels, queries and bodies, unsigned and mangled ones,
 * and random MQTT jobs requests (< 100 KB) from a real device. Asserted: no 5xx, every error in
 * its protocol's shape, /healthz answering throughout, the device connection kept. Replay a
 * failure with FUZZ_SEED=<seed> (and FUZZ_HTTP / FUZZ_MQTT to change the counts).
 */
const SEED = Number(process.env.FUZZ_SEED ?? 1414);
const HTTP_REQUESTS = Number(process.env.FUZZ_HTTP ?? 1200);
const MQTT_MESSAGES = Number(process.env.FUZZ_MQTT ?? 400);
const THING = 'fz-device';
const NAMES = [THING, 'fz-t1', 'fz-g', 'fz-job', 'fz-job2', 'fz-bucket', 'fz-role', 'nope'];
const thingArn = (name: string): string => `arn:aws:iot:${TEST_REGION}:000000000000:thing/${name}`;

type Shape = 'restJson' | 's3' | 'iam';

interface Sent {
  what: string;
  shape: Shape;
  method: string;
  reply: SignedReply;
}

/** A request that got no HTTP reply at all (reset, hang-up) is a finding, not a crash of the test. */
const noReply = (err: Error): SignedReply => ({
  status: 0,
  headers: {},
  text: `no reply: ${err.message}`,
  json: () => ({}),
});

function shapeProblem(s: Sent): string | undefined {
  const { reply } = s;
  if (reply.status === 0) return reply.text;
  if (reply.status >= 500) {
    // S3 itself answers 501 NotImplemented for a subresource it does not serve.
    const s3NotImplemented = s.method === 'HEAD' || /<Code>NotImplemented<\/Code>/.test(reply.text);
    if (!(s.shape === 's3' && reply.status === 501 && s3NotImplemented)) {
      return `status ${reply.status}`;
    }
  }
  if (reply.status < 300 || s.method === 'HEAD' || reply.status === 304) return undefined;
  if (/FST_ERR/.test(reply.text)) return 'Fastify error shape';
  // Refused by the HTTP parser before any service is known (URL over 16 KB): restJson's shape.
  const shape = reply.status === 431 ? 'restJson' : s.shape;
  switch (shape) {
    case 's3':
      return /^<\?xml[^>]*>\s*<Error><Code>[A-Za-z]+<\/Code>/.test(reply.text) ? undefined : 'not an S3 XML error';
    case 'iam':
      return /<ErrorResponse[\s\S]*<Code>[A-Za-z]+<\/Code>/.test(reply.text) ? undefined : 'not an IAM XML error';
    default: {
      if (!reply.errorType) return 'no x-amzn-ErrorType';
      try {
        return typeof reply.json().message === 'string' ? undefined : 'no message';
      } catch {
        return 'error body is not JSON';
      }
    }
  }
}

async function oneHttpRequest(t: TestServer, r: Rng): Promise<Sent> {
  const roll = r.next();
  if (roll < 0.6) {
    const op = r.pick(MODEL_OPERATIONS);
    const path = op.path.replace(/\{([^}+]+)\+?\}/g, () => fuzzLabel(r, NAMES));
    const [bare, staticQuery] = path.split('?');
    const query = [staticQuery, r.chance(0.3) ? `maxResults=${encodeURIComponent(fuzzString(r, 5))}` : undefined]
      .filter((q) => q !== undefined && q !== '')
      .join('&');
    const body: Record<string, unknown> = {};
    for (const m of op.members)
      if (r.chance(0.4)) body[m] = m === 'targets' && r.chance(0.5) ? [thingArn(THING)] : fuzzValue(r);
    const text = r.chance(0.05) ? fuzzString(r, 200) : JSON.stringify(body);
    const method = r.chance(0.05) ? r.pick(['GET', 'PUT', 'POST', 'DELETE', 'PATCH']) : op.method;
    const reply = await signedRequest(t, {
      service: op.service,
      method,
      path: query ? `${bare}?${query}` : bare!,
      ...(method !== 'GET' && method !== 'DELETE' && { body: text }),
      ...(r.chance(0.05) && { headers: { 'content-type': r.pick(['', 'a b', 'text/plain', 'application/xml']) } }),
    }).catch(noReply);
    return {
      what: `${op.service} ${op.name} ${method} ${path} ${text.slice(0, 200)}`,
      shape: 'restJson',
      method,
      reply,
    };
  }
  if (roll < 0.8) {
    const method = r.pick(['GET', 'PUT', 'HEAD', 'DELETE', 'POST']);
    const bucket = r.chance(0.7) ? 'fz-bucket' : fuzzLabel(r, NAMES);
    const key = r.chance(0.8) ? `/${fuzzLabel(r, ['fw.bin', 'a/b/c', 'x'])}` : '';
    const sub = r.chance(0.4)
      ? `?${r.pick(['versioning', 'versions', 'uploads', 'list-type=2', 'tagging', 'acl', 'delete', 'partNumber=1&uploadId=zz', `prefix=${encodeURIComponent(fuzzString(r, 10))}`])}`
      : '';
    const body = method === 'PUT' || method === 'POST' ? (r.chance(0.5) ? fuzzString(r, 300) : '<x>') : undefined;
    const reply = await signedRequest(t, {
      service: 's3',
      method,
      path: `/${bucket}${key}${sub}`,
      ...(body !== undefined && { body }),
    }).catch(noReply);
    return { what: `s3 ${method} /${bucket}${key}${sub}`, shape: 's3', method, reply };
  }
  if (roll < 0.9) {
    const action = r.pick([
      'CreateRole',
      'GetRole',
      'DeleteRole',
      'PutRolePolicy',
      'ListRoles',
      'TagRole',
      'Bogus',
      '',
    ]);
    const params = Array.from(
      { length: r.int(4) },
      () =>
        `${r.pick(['RoleName', 'PolicyName', 'PolicyDocument', 'AssumeRolePolicyDocument', 'MaxItems', 'Tags.member.1.Key'])}=${encodeURIComponent(fuzzString(r, 60))}`,
    );
    const body = [`Action=${action}`, 'Version=2010-05-08', ...params].join('&');
    const reply = await signedRequest(t, {
      service: 'iam',
      method: 'POST',
      path: '/',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    }).catch(noReply);
    return { what: `iam ${body.slice(0, 200)}`, shape: 'iam', method: 'POST', reply };
  }
  // Unsigned and mangled requests.
  const path = `/${fuzzLabel(r, ['things', 'jobs', 'fz-bucket'])}/${fuzzLabel(r, NAMES)}`;
  const presigned = r.chance(0.3);
  const headers: Record<string, string> = presigned
    ? {}
    : r.chance(0.5)
      ? { authorization: `AWS4-HMAC-SHA256 ${fuzzString(r, 80).replace(/[^\x20-\x7e]/g, '')}` }
      : {};
  const full = presigned ? `${path}?X-Amz-Signature=${encodeURIComponent(fuzzString(r, 10))}` : path;
  const reply = await send(t.endpoint, r.pick(['GET', 'POST', 'PUT']), full, headers).catch(noReply);
  return {
    what: `unsigned ${full} ${JSON.stringify(headers)}`,
    shape: presigned ? 's3' : 'restJson',
    method: 'GET',
    reply,
  };
}

/** Job ids as a topic level can carry them: the id alphabet, from 1 to 70 characters (64 is the limit). */
function jobIdLike(r: Rng): string {
  const chars = 'abcXYZ019_-';
  return Array.from({ length: 1 + r.int(70) }, () => r.pick([...chars])).join('');
}

function mqttPayload(r: Rng): string | Buffer {
  if (r.chance(0.1)) return Buffer.from(Array.from({ length: r.int(300) }, () => r.int(256)));
  if (r.chance(0.03)) return JSON.stringify({ clientToken: 'big', statusDetails: { k: 'v'.repeat(90_000) } });
  const body: Record<string, unknown> = {};
  for (const m of [
    'status',
    'statusDetails',
    'stepTimeoutInMinutes',
    'expectedVersion',
    'clientToken',
    'includeJobDocument',
    'executionNumber',
  ]) {
    if (r.chance(0.4))
      body[m] =
        m === 'status' && r.chance(0.5) ? r.pick(['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED']) : fuzzValue(r);
  }
  return JSON.stringify(body);
}

describe.each(DIALECTS)(`seeded fuzz, seed ${SEED} (%s)`, (dialect) => {
  let t: TestServer;
  let iot: IoTClient;
  let device: MqttClient;
  let closed = false;

  beforeAll(async () => {
    t = await startTestServer({ dialect });
    iot = t.iot();
    const d = await provisionDevice(t, iot, THING);
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'fz-g' }));
    for (const jobId of ['fz-job', 'fz-job2']) {
      await iot.send(new CreateJobCommand({ jobId, targets: [thingArn(THING)], document: '{"op":"x"}' }));
    }
    const s3 = s3Client(t);
    await s3.send(new CreateBucketCommand({ Bucket: 'fz-bucket' }));
    await s3.send(new PutObjectCommand({ Bucket: 'fz-bucket', Key: 'fw.bin', Body: 'firmware' }));
    const iam = new IAMClient({
      endpoint: t.endpoint,
      region: TEST_REGION,
      credentials: t.credentials,
      maxAttempts: 1,
    });
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'fz-role',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'iot.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    iam.destroy();
    device = await connectDevice(t, d, THING);
    device.on('close', () => (closed = true));
  });
  afterAll(async () => {
    await device?.endAsync();
    await t?.stop();
  });

  const healthy = async (): Promise<void> => {
    const h = await send(t.endpoint, 'GET', '/healthz', {});
    expect(h.status).toBe(200);
  };

  it(`${HTTP_REQUESTS} HTTP requests: no 5xx, every error AWS-shaped`, { timeout: 600_000 }, async () => {
    const r = new Rng(SEED);
    const problems: string[] = [];
    for (let i = 0; i < HTTP_REQUESTS; i++) {
      const sent = await oneHttpRequest(t, r);
      const problem = shapeProblem(sent);
      if (problem) {
        const what = sent.what.slice(0, 300);
        problems.push(`#${i} ${problem}: ${what} -> ${sent.reply.status} ${sent.reply.text.slice(0, 200)}`);
      }
      if (i % 50 === 0) await healthy();
    }
    await healthy();
    expect(problems).toEqual([]);
  });

  it(
    `${MQTT_MESSAGES} MQTT jobs requests: every reply accepted or AWS-shaped rejected, the connection kept`,
    { timeout: 600_000 },
    async () => {
      const r = new Rng(SEED + 1);
      const base = `$aws/things/${THING}/jobs`;
      const replies: { topic: string; payload: Buffer }[] = [];
      let waiter: (() => void) | undefined;
      device.on('message', (topic, payload) => {
        replies.push({ topic, payload });
        waiter?.();
      });
      await device.subscribeAsync(`${base}/#`);
      const problems: string[] = [];
      for (let i = 0; i < MQTT_MESSAGES; i++) {
        const jobId = r.chance(0.6) ? r.pick(['fz-job', 'fz-job2', '$next']) : jobIdLike(r);
        const topic = r.pick([`${base}/get`, `${base}/start-next`, `${base}/${jobId}/get`, `${base}/${jobId}/update`]);
        const from = replies.length;
        const payload = mqttPayload(r);
        await device.publishAsync(topic, payload, { qos: 1 });
        const reply = await new Promise<{ topic: string; payload: Buffer } | undefined>((resolve) => {
          const find = () =>
            replies.slice(from).find((m) => m.topic === `${topic}/accepted` || m.topic === `${topic}/rejected`);
          const timer = setTimeout(() => resolve(find()), 5_000);
          waiter = () => {
            const m = find();
            if (m) {
              clearTimeout(timer);
              resolve(m);
            }
          };
          waiter();
        });
        if (!reply) {
          problems.push(`#${i} no reply on ${topic} to ${String(payload).slice(0, 100)}`);
          continue;
        }
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(reply.payload.toString('utf8')) as Record<string, unknown>;
        } catch {
          problems.push(`#${i} reply on ${reply.topic} is not JSON`);
          continue;
        }
        if (reply.topic.endsWith('/rejected')) {
          if (typeof body.code !== 'string' || typeof body.message !== 'string' || body.code === 'InternalError') {
            problems.push(`#${i} ${topic} ${String(payload).slice(0, 100)} -> ${JSON.stringify(body).slice(0, 200)}`);
          }
        }
        if (i % 50 === 0) await healthy();
      }
      expect(closed).toBe(false);
      await healthy();
      expect(problems).toEqual([]);
    },
  );
});
