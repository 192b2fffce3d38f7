import {
  CreateRoleCommand,
  DeleteRolePolicyCommand,
  IAMClient,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateJobCommand, GetJobDocumentCommand, type IoTClient } from '@aws-sdk/client-iot';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import https from 'node:https';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { caPem, connectDevice, Inbox, provisionDevice, request, type Device } from '../helpers/devices.js';
import { s3Client } from '../helpers/s3.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';

const ACCOUNT = '000000000000';
const THING = 'downloader-1';
const thingArn = `arn:aws:iot:${TEST_REGION}:${ACCOUNT}:thing/${THING}`;
const roleArn = (name: string): string => `arn:aws:iam::${ACCOUNT}:role/${name}`;

const trust = (condition?: object): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'iot.amazonaws.com' },
        Action: 'sts:AssumeRole',
        ...(condition && { Condition: condition }),
      },
    ],
  });
const confusedDeputy = {
  StringEquals: { 'aws:SourceAccount': ACCOUNT },
  ArnLike: { 'aws:SourceArn': `arn:aws:iot:${TEST_REGION}:${ACCOUNT}:job/*` },
};
const allow = (actions: string[], resource = 'arn:aws:s3:::firmware/*'): string =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: resource }] });

interface Download {
  status: number;
  body: Buffer;
}

describe('presigned URLs in job documents, downloaded by a device (spec 6.1, 8)', () => {
  let t: TestServer;
  let clock: FakeClock;
  let iot: IoTClient;
  let iam: IAMClient;
  let s3: S3Client;
  let dev: Device;
  let client: MqttClient;
  let inbox: Inbox;
  const v1 = randomBytes(300 * 1024);
  const v2 = randomBytes(200 * 1024);
  let v1Id: string;

  const download = (url: string): Promise<Download> =>
    new Promise((resolve, reject) => {
      https
        .get(url, { ca: caPem(t) }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        })
        .on('error', reject);
    });
  /** What the device gets for <jobId>/get over MQTT. */
  const fetchJob = (jobId: string) =>
    request(client, inbox, `$aws/things/${THING}/jobs/${jobId}/get`, { clientToken: `get-${jobId}` });
  const createJob = (jobId: string, document: object, role?: string, extra: object = {}) =>
    iot.send(
      new CreateJobCommand({
        jobId,
        targets: [thingArn],
        document: JSON.stringify(document),
        ...(role && { presignedUrlConfig: { roleArn: roleArn(role), expiresInSec: 120 } }),
        ...extra,
      }),
    );
  const createRole = async (name: string, trustPolicy: string, permissions?: string): Promise<void> => {
    await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trustPolicy }));
    if (permissions) {
      await iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'files', PolicyDocument: permissions }));
    }
  };
  const refusal = async (p: Promise<unknown>): Promise<{ name: string; message: string }> => {
    try {
      await p;
    } catch (err) {
      return { name: (err as Error).name, message: (err as Error).message };
    }
    throw new Error('expected the call to fail');
  };

  beforeAll(async () => {
    // Real time, but under the test's control: URLs can be made to expire without waiting.
    clock = new FakeClock(Date.now());
    t = await startTestServer({ clock });
    iot = t.iot();
    iam = new IAMClient({ endpoint: t.endpoint, region: TEST_REGION, credentials: t.credentials, maxAttempts: 1 });
    s3 = s3Client(t);
    await s3.send(new CreateBucketCommand({ Bucket: 'firmware' }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'firmware', VersioningConfiguration: { Status: 'Enabled' } }),
    );
    v1Id = (await s3.send(new PutObjectCommand({ Bucket: 'firmware', Key: 'fw.bin', Body: v1 }))).VersionId!;
    await createRole('fw-download', trust(confusedDeputy), allow(['s3:GetObject', 's3:GetObjectVersion']));
    dev = await provisionDevice(t, iot, THING);
    client = await connectDevice(t, dev, THING);
    inbox = new Inbox(client);
  });
  afterAll(async () => {
    client?.end(true);
    iam?.destroy();
    s3?.destroy();
    await t?.stop();
  });

  it('gives the device fresh https URLs on the device listener; the bytes arrive exact; a pinned version stays pinned', async () => {
    const document = {
      operation: 'update',
      latest: '${aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/firmware/fw.bin}',
      pinned: `\${aws:iot:s3-presigned-url-v2:https://firmware.s3.us-east-1.amazonaws.com/fw.bin%3FversionId%3D${v1Id}}`,
    };
    await createJob('fw-1', document, 'fw-download');
    const stored = await iot.send(new GetJobDocumentCommand({ jobId: 'fw-1' }));
    expect(JSON.parse(stored.document!)).toEqual(document);

    const first = await fetchJob('fw-1');
    expect(first.topic).toBe(`$aws/things/${THING}/jobs/fw-1/get/accepted`);
    const doc = (first.payload.execution as { jobDocument: { latest: string; pinned: string; operation: string } })
      .jobDocument;
    expect(doc.operation).toBe('update');
    const base = t.server.endpoints.deviceHttps!;
    expect(doc.latest.startsWith(`${base}/firmware/fw.bin?`)).toBe(true);
    const params = new URL(doc.latest).searchParams;
    expect(params.get('X-Amz-Expires')).toBe('120');
    expect(params.get('X-Amz-SignedHeaders')).toBe('host');
    expect(params.get('X-Amz-Credential')).toMatch(/^ASIA[A-Z2-7]{16}\/\d{8}\/us-east-1\/s3\/aws4_request$/);
    expect(params.get('X-Amz-Security-Token')).toBeTruthy();
    expect(new URL(doc.pinned).searchParams.get('versionId')).toBe(v1Id);

    const got = await download(doc.latest);
    expect(got.status).toBe(200);
    expect(got.body.equals(v1)).toBe(true);

    // The file is overwritten: new deliveries of the unpinned URL serve it, the pinned one never does.
    await s3.send(new PutObjectCommand({ Bucket: 'firmware', Key: 'fw.bin', Body: v2 }));
    const again = (await fetchJob('fw-1')).payload.execution as { jobDocument: { latest: string; pinned: string } };
    expect(again.jobDocument.latest).not.toBe(doc.latest);
    expect((await download(again.jobDocument.latest)).body.equals(v2)).toBe(true);
    expect((await download(again.jobDocument.pinned)).body.equals(v1)).toBe(true);
  });

  it('renders the same URLs for the HTTPS data plane (client certificate)', async () => {
    const url = new URL(`/things/${THING}/jobs/fw-1?includeJobDocument=true`, t.server.endpoints.deviceHttps);
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      https
        .get(url, { cert: dev.cert, key: dev.key, ca: dev.ca }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        })
        .on('error', reject);
    });
    expect(reply.status, reply.body).toBe(200);
    // spec 0.2: over HTTP the document is a JSON-encoded string.
    const execution = (JSON.parse(reply.body) as { execution: { jobDocument: string } }).execution;
    const doc = JSON.parse(execution.jobDocument) as { latest: string };
    expect(doc.latest.startsWith(`${t.server.endpoints.deviceHttps}/firmware/fw.bin?X-Amz-`)).toBe(true);
    expect((await download(doc.latest)).body.equals(v2)).toBe(true);
  });

  it('refuses an expired URL and a tampered one with S3 XML errors', async () => {
    const doc = ((await fetchJob('fw-1')).payload.execution as { jobDocument: { latest: string } }).jobDocument;
    const tampered = doc.latest.replace('/firmware/fw.bin?', '/firmware/other.bin?');
    const bad = await download(tampered);
    expect(bad.status).toBe(403);
    expect(bad.body.toString()).toContain('<Code>SignatureDoesNotMatch</Code>');
    const longer = await download(doc.latest.replace('X-Amz-Expires=120', 'X-Amz-Expires=3600'));
    expect(longer.status).toBe(403);

    clock.advance(121_000);
    const expired = await download(doc.latest);
    expect(expired.status).toBe(403);
    expect(expired.body.toString()).toContain('<Code>AccessDenied</Code>');
    expect(expired.body.toString()).toContain('Request has expired');
    const fresh = ((await fetchJob('fw-1')).payload.execution as { jobDocument: { latest: string } }).jobDocument;
    expect((await download(fresh.latest)).status).toBe(200);
  });

  it("checks the role's s3:GetObject at download: revoking it stops URLs already handed out", async () => {
    const doc = ((await fetchJob('fw-1')).payload.execution as { jobDocument: { latest: string } }).jobDocument;
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'fw-download', PolicyName: 'files' }));
    const denied = await download(doc.latest);
    expect(denied.status).toBe(403);
    expect(denied.body.toString()).toContain('<Code>AccessDenied</Code>');
    // ...and new deliveries are refused with a message that says why.
    const refused = await fetchJob('fw-1');
    expect(refused.topic).toBe(`$aws/things/${THING}/jobs/fw-1/get/rejected`);
    expect(refused.payload).toMatchObject({ code: 'InternalError', clientToken: 'get-fw-1' });
    expect(String(refused.payload.message)).toContain('does not allow s3:GetObject on arn:aws:s3:::firmware/fw.bin');
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'fw-download',
        PolicyName: 'files',
        PolicyDocument: allow(['s3:GetObject', 's3:GetObjectVersion']),
      }),
    );
    expect((await download(doc.latest)).status).toBe(200);
  });

  it('CreateJob refuses a missing role, a trust policy that cannot match this job, and one without conditions', async () => {
    const doc = { url: '${aws:iot:s3-presigned-url:firmware/fw.bin}' };
    const missing = await refusal(createJob('no-role', doc, 'nobody'));
    expect(missing.name).toBe('InvalidRequestException');
    expect(missing.message).toContain(`presignedUrlConfig.roleArn ${roleArn('nobody')} does not exist`);

    await createRole(
      'other-jobs',
      trust({ ArnLike: { 'aws:SourceArn': `arn:aws:iot:${TEST_REGION}:${ACCOUNT}:job/other-*` } }),
      allow(['s3:GetObject']),
    );
    const wrongJob = await refusal(createJob('wrong-job', doc, 'other-jobs'));
    expect(wrongJob.name).toBe('InvalidRequestException');
    expect(wrongJob.message).toContain('The trust policy of role');
    expect(wrongJob.message).toContain('condition ArnLike aws:SourceArn');
    expect(wrongJob.message).toContain(`job/wrong-job`);

    await createRole('no-conditions', trust(), allow(['s3:GetObject']));
    const open = await refusal(createJob('open-trust', doc, 'no-conditions'));
    expect(open.name).toBe('InvalidRequestException');
    expect(open.message).toContain('confused-deputy conditions');

    await createRole(
      'lambda-only',
      JSON.stringify({
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    );
    const lambda = await refusal(createJob('lambda-job', doc, 'lambda-only'));
    expect(lambda.message).toContain('the principal does not match');

    const noConfig = await refusal(createJob('no-config', doc));
    expect(noConfig.message).toContain('no presignedUrlConfig.roleArn');
    const badPlaceholder = await refusal(
      createJob(
        'bad-placeholder',
        { url: '${aws:iot:s3-presigned-url:https://s3.amazonaws.com/onlybucket}' },
        'fw-download',
      ),
    );
    expect(badPlaceholder.message).toContain('does not name an S3 object');
  });

  it('refuses delivery for a role without s3:GetObject, and for a trust policy that lost its conditions', async () => {
    await createRole('list-only', trust(confusedDeputy), allow(['s3:ListBucket'], 'arn:aws:s3:::firmware'));
    await createJob('no-get', { url: '${aws:iot:s3-presigned-url:firmware/fw.bin}' }, 'list-only');
    const refused = await fetchJob('no-get');
    expect(refused.topic).toBe(`$aws/things/${THING}/jobs/no-get/get/rejected`);
    expect(String(refused.payload.message)).toContain('role list-only does not allow s3:GetObject');

    await createRole('loosened', trust(confusedDeputy), allow(['s3:GetObject']));
    await createJob('loosened-job', { url: '${aws:iot:s3-presigned-url:firmware/fw.bin}' }, 'loosened');
    expect((await fetchJob('loosened-job')).topic).toMatch(/\/get\/accepted$/);
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'loosened', PolicyDocument: trust() }));
    const open = await fetchJob('loosened-job');
    expect(open.topic).toMatch(/\/get\/rejected$/);
    expect(String(open.payload.message)).toContain('confused-deputy conditions');
  });

  it('reads documentSource once, at creation, from any bucket unless the document is code-signed', async () => {
    const first = { operation: 'from-s3', step: 1 };
    await s3.send(new PutObjectCommand({ Bucket: 'firmware', Key: 'jobs/doc one.json', Body: JSON.stringify(first) }));
    await iot.send(
      new CreateJobCommand({
        jobId: 'from-source',
        targets: [thingArn],
        documentSource: 'https://s3.us-east-1.amazonaws.com/firmware/jobs/doc%20one.json',
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'firmware', Key: 'jobs/doc one.json', Body: '{"changed":true}' }));
    const stored = await iot.send(new GetJobDocumentCommand({ jobId: 'from-source' }));
    expect(JSON.parse(stored.document!)).toEqual(first);
    const device = await fetchJob('from-source');
    expect((device.payload.execution as { jobDocument: object }).jobDocument).toEqual(first);

    const missing = await refusal(
      iot.send(
        new CreateJobCommand({
          jobId: 'from-missing',
          targets: [thingArn],
          documentSource: 'https://s3.us-east-1.amazonaws.com/firmware/jobs/none.json',
        }),
      ),
    );
    expect(missing.name).toBe('InvalidRequestException');
    expect(missing.message).toContain('The specified key does not exist');

    // AWS (and its Device Client tutorial) reads a document from a plain bucket too.
    await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
    await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'doc.json', Body: '{"operation":"plain"}' }));
    await iot.send(
      new CreateJobCommand({
        jobId: 'from-plain',
        targets: [thingArn],
        documentSource: 'https://plain.s3.us-east-1.amazonaws.com/doc.json',
      }),
    );
    expect(JSON.parse((await iot.send(new GetJobDocumentCommand({ jobId: 'from-plain' }))).document!)).toEqual({
      operation: 'plain',
    });
    // Only a code-signed document must come from a versioned bucket.
    const signed = '{"sig":"${aws:iot:code-sign-signature:s3://us-east-1.firmware/fw.bin@v1}"}';
    await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'signed.json', Body: signed }));
    const unversioned = await refusal(
      iot.send(
        new CreateJobCommand({
          jobId: 'from-plain-signed',
          targets: [thingArn],
          documentSource: 'https://plain.s3.us-east-1.amazonaws.com/signed.json',
        }),
      ),
    );
    expect(unversioned.name).toBe('InvalidRequestException');
    expect(unversioned.message).toContain('bucket plain is not versioned');
  });
});
