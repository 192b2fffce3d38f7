import {
  CreateJobCommand,
  GetJobDocumentCommand,
  type CreateJobCommandInput,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CancelSigningProfileCommand,
  PutSigningProfileCommand,
  SignerClient,
  TagResourceCommand,
} from '@aws-sdk/client-signer';
import { randomBytes } from 'node:crypto';
import https from 'node:https';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withBodyMembers } from '../../src/cli/sdk-extensions.js';
import { PREVIEW_SIGNATURE } from '../../src/signing/job-document-signer.js';
import { SIGNATURE_MISMATCH_TOPIC } from '../../src/signing/signature-guard.js';
import { verifyFile } from '../../src/signing/verify.js';
import { caPem, connectDevice, Inbox, provisionDevice, request, type Device } from '../helpers/devices.js';
import { DIALECTS } from '../helpers/postgres.js';
import { s3Client } from '../helpers/s3.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';

const ACCOUNT = '000000000000';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/jobs-presign`;

/** GET over the device HTTPS listener, trusting the server's CA. */
function download(t: TestServer, url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: caPem(t) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

async function rejection(p: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return { name: (err as Error).name, message: (err as Error).message };
  }
  throw new Error('expected the call to fail');
}

describe.each(DIALECTS)('code signing in job documents, delivered over MQTT (%s)', (dialect) => {
  let t: TestServer;
  let iot: IoTClient;
  let s3: S3Client;
  let signer: SignerClient;
  let device: Device;
  let client: MqttClient;
  let inbox: Inbox;
  let monitor: MqttClient;
  let monitorInbox: Inbox;
  const firmware = randomBytes(64 * 1024 + 7);
  let version: string;
  let ecdsaCert: string;

  const codeSign = (bucket: string, key: string, v: string, region = TEST_REGION): string =>
    `\${aws:iot:code-sign-signature:s3://${region}.${bucket}/${key}@${v}}`;
  const presign = (bucket: string, key: string): string =>
    `\${aws:iot:s3-presigned-url:https://s3.${TEST_REGION}.amazonaws.com/${bucket}/${key}}`;
  const docFor = (url: string, signature: string): string =>
    JSON.stringify({ operation: 'firmware-update', files: [{ fileName: 'app.bin', url, codesign: signature }] });
  const createJob = (jobId: string, document: string, extra: Partial<CreateJobCommandInput> = {}, profile?: string) => {
    const cmd = new CreateJobCommand({
      jobId,
      targets: [`arn:aws:iot:${TEST_REGION}:${ACCOUNT}:thing/${device.thingName}`],
      document,
      presignedUrlConfig: { roleArn: ROLE, expiresInSec: 600 },
      ...extra,
    });
    return iot.send(profile === undefined ? cmd : withBodyMembers(cmd, { codeSigning: { profileName: profile } }));
  };
  /** The device asks for one job's execution with its document (spec 5.2 .../jobs/<jobId>/get). */
  const fetchJob = (jobId: string) =>
    request(client, inbox, `$aws/things/${device.thingName}/jobs/${jobId}/get`, { includeJobDocument: true });

  beforeAll(async () => {
    t = await startTestServer({ dialect, flags: { deviceTopics: 'fleetjobs/events/#' } });
    iot = t.iot();
    s3 = s3Client(t);
    signer = new SignerClient({
      endpoint: t.endpoint,
      region: TEST_REGION,
      credentials: t.credentials,
      maxAttempts: 1,
    });
    const iam = new IAMClient({
      endpoint: t.endpoint,
      region: TEST_REGION,
      credentials: t.credentials,
      maxAttempts: 1,
    });
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'jobs-presign',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'iot.amazonaws.com' },
              Action: 'sts:AssumeRole',
              Condition: {
                StringEquals: { 'aws:SourceAccount': ACCOUNT },
                ArnLike: { 'aws:SourceArn': `arn:aws:iot:${TEST_REGION}:${ACCOUNT}:job/*` },
              },
            },
          ],
        }),
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'jobs-presign',
        PolicyName: 'read-firmware',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: 'arn:aws:s3:::firmware/*' },
          ],
        }),
      }),
    );
    iam.destroy();
    await s3.send(new CreateBucketCommand({ Bucket: 'firmware' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'firmware', VersioningConfiguration: { Status: 'Enabled' } }),
    );
    version = (await s3.send(new PutObjectCommand({ Bucket: 'firmware', Key: 'fw/app.bin', Body: firmware })))
      .VersionId!;
    await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'fw/app.bin', Body: firmware }));
    await signer.send(
      new PutSigningProfileCommand({ profileName: 'fw_ecdsa', platformId: 'AWSIoTDeviceManagement-SHA256-ECDSA' }),
    );
    const profile = await t.server.services.signing.profiles.getSigningProfile('fw_ecdsa');
    ecdsaCert = (await t.server.services.signing.certificates.getCertificate(profile.signingMaterial.certificateArn))
      .Certificate;
    device = await provisionDevice(t, iot, 'sensor-1');
    client = await connectDevice(t, device, 'sensor-1');
    inbox = new Inbox(client);
    await client.subscribeAsync(`$aws/things/sensor-1/jobs/#`, { qos: 1 });
    const watcher = await provisionDevice(t, iot, 'ops-monitor');
    monitor = await connectDevice(t, watcher, 'ops-monitor');
    monitorInbox = new Inbox(monitor);
    await monitor.subscribeAsync('fleetjobs/events/#', { qos: 1 });
  });
  afterAll(async () => {
    client?.end(true);
    monitor?.end(true);
    s3?.destroy();
    signer?.destroy();
    await t?.stop();
  });

  it('replaces the placeholder at CreateJob with the signature block of that exact version (spec 6.3, 6.4)', async () => {
    await createJob('signed-1', docFor(presign('firmware', 'fw/app.bin'), codeSign('firmware', 'fw/app.bin', version)));
    const stored = JSON.parse((await iot.send(new GetJobDocumentCommand({ jobId: 'signed-1' }))).document!) as {
      files: { url: string; codesign: Record<string, unknown> }[];
    };
    expect(stored.files[0]!.url).toBe(presign('firmware', 'fw/app.bin'));
    expect(stored.files[0]!.codesign).toEqual({
      rawPayloadSize: firmware.length,
      signature: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/) as string,
      signatureAlgorithm: 'SHA256withECDSA',
      payloadLocation: { s3: { bucketName: 'firmware', key: 'fw/app.bin', version } },
    });
    // The signing job's signed object sits under SignedImages/ in the source bucket (spec 6.3).
    const jobs = await t.server.services.signing.jobs.listSigningJobs({});
    expect(jobs.jobs[0]).toMatchObject({
      signedObject: { s3: { bucketName: 'firmware', key: `SignedImages/${jobs.jobs[0]!.jobId}` } },
    });
    expect((await t.server.services.signing.jobs.describeSigningJob(jobs.jobs[0]!.jobId)).requestedBy).toBe(
      `arn:aws:iot:${TEST_REGION}:${ACCOUNT}:job/signed-1`,
    );
  });

  it('a device fetches the job over MQTT, downloads the file by its presigned URL and verifies it; one changed byte fails', async () => {
    const next = await request(client, inbox, '$aws/things/sensor-1/jobs/start-next', {});
    expect(next.topic).toBe('$aws/things/sensor-1/jobs/start-next/accepted');
    const execution = next.payload.execution as {
      jobId: string;
      jobDocument: { files: { url: string; codesign: never }[] };
    };
    expect(execution.jobId).toBe('signed-1');
    const file = execution.jobDocument.files[0]!;
    expect(file.url).toMatch(/^https:\/\/.*\/firmware\/fw\/app\.bin\?.*X-Amz-Signature=/);
    const got = await download(t, file.url);
    expect(got.status).toBe(200);
    expect(got.body.equals(firmware)).toBe(true);
    expect(await verifyFile({ file: got.body, signature: file.codesign, certificatePem: ecdsaCert })).toMatchObject({
      ok: true,
      algorithm: 'SHA256withECDSA',
    });
    const changed = Buffer.from(got.body);
    changed[changed.length - 1] = changed[changed.length - 1]! ^ 0x01;
    expect(await verifyFile({ file: changed, signature: file.codesign, certificatePem: ecdsaCert })).toEqual({
      ok: false,
      reason: 'the SHA256withECDSA signature does not match the file and the certificate',
    });
  });

  it('withholds the document when the URL would serve other bytes than were signed, with a rejection and an event', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'firmware', Key: 'fw/app.bin', Body: Buffer.from('evil firmware') }));
    const from = monitorInbox.messages.length;
    const refused = await fetchJob('signed-1');
    expect(refused.topic).toBe('$aws/things/sensor-1/jobs/signed-1/get/rejected');
    expect(refused.payload).toMatchObject({
      code: 'InvalidRequest',
      message: expect.stringMatching(
        /^Job signed-1: the document is withheld because s3:\/\/firmware\/fw\/app\.bin no longer matches its code signature \(signing job [0-9a-f-]+\): version \S+ has SHA-256 [0-9a-f]{64}, but version \S+ was signed/,
      ) as string,
    });
    const event = await monitorInbox.next(SIGNATURE_MISMATCH_TOPIC, from);
    expect(event.payload).toMatchObject({
      eventType: 'SIGNATURE_MISMATCH',
      jobId: 'signed-1',
      thingName: 'sensor-1',
      object: { bucket: 'firmware', key: 'fw/app.bin' },
      signedVersion: version,
    });
    // A URL pinned to the signed version still serves the signed bytes, so that document goes out.
    const pinned = `\${aws:iot:s3-presigned-url-v2:https://s3.${TEST_REGION}.amazonaws.com/firmware/fw/app.bin%3FversionId%3D${version}}`;
    await createJob('signed-pinned', docFor(pinned, codeSign('firmware', 'fw/app.bin', version)));
    const ok = await fetchJob('signed-pinned');
    expect(ok.topic).toBe('$aws/things/sensor-1/jobs/signed-pinned/get/accepted');
    const doc = (ok.payload.execution as { jobDocument: { files: { url: string; codesign: never }[] } }).jobDocument;
    const got = await download(t, doc.files[0]!.url);
    expect(got.body.equals(firmware)).toBe(true);
    expect(
      (await verifyFile({ file: got.body, signature: doc.files[0]!.codesign, certificatePem: ecdsaCert })).ok,
    ).toBe(true);
  });

  it('still announces notify-next when the document is withheld, without the document', async () => {
    const other = await provisionDevice(t, iot, 'sensor-2');
    const c2 = await connectDevice(t, other, 'sensor-2');
    try {
      const inbox2 = new Inbox(c2);
      await c2.subscribeAsync('$aws/things/sensor-2/jobs/notify-next', { qos: 1 });
      // Signed over the original version; the unpinned URL now serves the replaced bytes.
      await createJob(
        'signed-2',
        docFor(presign('firmware', 'fw/app.bin'), codeSign('firmware', 'fw/app.bin', version)),
        {
          targets: [`arn:aws:iot:${TEST_REGION}:${ACCOUNT}:thing/sensor-2`],
        },
      );
      const next = await inbox2.next('$aws/things/sensor-2/jobs/notify-next');
      const execution = next.payload.execution as Record<string, unknown>;
      expect(execution).toMatchObject({ jobId: 'signed-2', status: 'QUEUED' });
      expect(execution).not.toHaveProperty('jobDocument');
    } finally {
      await c2.endAsync();
    }
  });

  it('signs FreeRTOS OTA documents: sig-sha256-ecdsa under afr_ota.files[] gets the base64 signature (spec 6.5)', async () => {
    await signer.send(new PutSigningProfileCommand({ profileName: 'freertos', platformId: 'AmazonFreeRTOS-Default' }));
    const document = JSON.stringify({
      afr_ota: {
        protocols: ['HTTP'],
        files: [
          {
            filepath: '/firmware/app.bin',
            filesize: firmware.length,
            fileid: 0,
            certfile: 'signer.crt',
            update_data_url: `\${aws:iot:s3-presigned-url-v2:https://s3.${TEST_REGION}.amazonaws.com/firmware/fw/app.bin%3FversionId%3D${version}}`,
            auth_scheme: 'aws.s3.presigned',
            'sig-sha256-ecdsa': codeSign('firmware', 'fw/app.bin', version),
          },
        ],
      },
    });
    await createJob('AFR_OTA-app', document, {}, 'freertos');
    const res = await fetchJob('AFR_OTA-app');
    expect(res.topic).toBe('$aws/things/sensor-1/jobs/AFR_OTA-app/get/accepted');
    const f = (res.payload.execution as { jobDocument: { afr_ota: { files: Record<string, string>[] } } }).jobDocument
      .afr_ota.files[0]!;
    expect(f['sig-sha256-ecdsa']).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const profile = await t.server.services.signing.profiles.getSigningProfile('freertos');
    const cert = (await t.server.services.signing.certificates.getCertificate(profile.signingMaterial.certificateArn))
      .Certificate;
    const got = await download(t, f.update_data_url!);
    expect(
      await verifyFile({
        file: got.body,
        signature: f['sig-sha256-ecdsa']!,
        algorithm: 'sig-sha256-ecdsa',
        certificatePem: cert,
      }),
    ).toMatchObject({ ok: true });
  });

  it('previews what CreateJob would store without signing anything (the console preview)', async () => {
    const signing = t.server.services.signing;
    const before = (await signing.jobs.listSigningJobs({})).jobs.length;
    const doc = docFor(presign('firmware', 'fw/app.bin'), codeSign('firmware', 'fw/app.bin', version));
    const preview = JSON.parse(
      await signing.documentSigner.preview(doc, { codeSigning: { profileName: 'fw_ecdsa' } }),
    ) as {
      files: { codesign: unknown }[];
    };
    expect(preview.files[0]!.codesign).toEqual({
      rawPayloadSize: firmware.length,
      signature: PREVIEW_SIGNATURE,
      signatureAlgorithm: 'SHA256withECDSA',
      payloadLocation: { s3: { bucketName: 'firmware', key: 'fw/app.bin', version } },
    });
    await expect(
      signing.documentSigner.preview(docFor('x', codeSign('firmware', 'fw/app.bin', 'nope')), {
        codeSigning: { profileName: 'fw_ecdsa' },
      }),
    ).rejects.toThrow('Cannot code-sign s3://firmware/fw/app.bin@nope: s3://firmware/fw/app.bin has no version nope.');
    expect((await signing.jobs.listSigningJobs({})).jobs.length).toBe(before);
  });

  it('refuses a wrong region, bucket, key or version and an unversioned bucket with a clear InvalidRequest', async () => {
    const cases: [string, string, RegExp][] = [
      [
        codeSign('firmware', 'fw/app.bin', version, 'eu-west-1'),
        'names region eu-west-1',
        /names region eu-west-1; this server's region is us-east-1\.$/,
      ],
      [codeSign('nobucket', 'fw/app.bin', version), 'bucket', /The source bucket nobucket does not exist\.$/],
      [codeSign('firmware', 'fw/none.bin', version), 'key', /s3:\/\/firmware\/fw\/none\.bin has no version/],
      [codeSign('firmware', 'fw/app.bin', 'nope'), 'version', /s3:\/\/firmware\/fw\/app\.bin has no version nope\.$/],
      [codeSign('plain', 'fw/app.bin', 'null'), 'unversioned', /The source bucket plain is not versioned/],
      ['${aws:iot:code-sign-signature:s3://firmware/app.bin}', 'malformed', /does not start with a region/],
    ];
    for (const [placeholder, , message] of cases) {
      const err = await rejection(createJob('bad-sign', docFor('https://example.com/x', placeholder), {}, 'fw_ecdsa'));
      expect(err.name).toBe('InvalidRequestException');
      expect(err.message).toMatch(message);
    }
  });

  it('chooses the profile: codeSigning.profileName, else the one tagged default, else the only Active one', async () => {
    const doc = docFor('https://example.com/x', codeSign('firmware', 'fw/app.bin', version));
    // Two Active profiles now (fw_ecdsa, freertos) and none tagged.
    expect(await rejection(createJob('pick-1', doc))).toEqual({
      name: 'InvalidRequestException',
      message:
        "The job document has code-sign placeholders but there are 2 Active signing profiles: name one in the job's codeSigning.profileName, or tag exactly one profile fleetjobs:defaultForJobs=true.",
    });
    expect(await rejection(createJob('pick-1', doc, {}, 'no_such'))).toEqual({
      name: 'InvalidRequestException',
      message: 'Signing profile no_such (codeSigning.profileName) does not exist.',
    });
    await signer.send(
      new TagResourceCommand({
        resourceArn: `arn:aws:signer:${TEST_REGION}:${ACCOUNT}:/signing-profiles/fw_ecdsa`,
        tags: { 'fleetjobs:defaultForJobs': 'true' },
      }),
    );
    await createJob('pick-1', doc);
    // An RSA profile cannot fill a sig-sha256-ecdsa key.
    await signer.send(new PutSigningProfileCommand({ profileName: 'fw_rsa', platformId: 'fleetjobs-SHA256-RSA' }));
    const afr = JSON.stringify({
      afr_ota: { files: [{ 'sig-sha256-ecdsa': codeSign('firmware', 'fw/app.bin', version) }] },
    });
    expect(await rejection(createJob('pick-2', afr, {}, 'fw_rsa'))).toEqual({
      name: 'InvalidRequestException',
      message:
        '"sig-sha256-ecdsa" needs a signature of its own algorithm, but signing profile fw_rsa makes SHA256withRSA signatures.',
    });
    await signer.send(new CancelSigningProfileCommand({ profileName: 'fw_rsa' }));
    expect(await rejection(createJob('pick-2', doc, {}, 'fw_rsa'))).toEqual({
      name: 'InvalidRequestException',
      message: 'Signing profile fw_rsa is Canceled and cannot sign.',
    });
  });
});
