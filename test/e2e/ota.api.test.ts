import { createHash, generateKeyPairSync, randomBytes, sign as cryptoSign, verify } from 'node:crypto';
import https from 'node:https';
import {
  CreateOTAUpdateCommand,
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  CreateThingCommand,
  DeleteOTAUpdateCommand,
  DescribeJobCommand,
  GetJobDocumentCommand,
  GetOTAUpdateCommand,
  ListOTAUpdatesCommand,
  ListTagsForResourceCommand,
  type CodeSigning,
  type CreateOTAUpdateCommandInput,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PutSigningProfileCommand, SignerClient, StartSigningJobCommand } from '@aws-sdk/client-signer';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli } from '../helpers/aws-cli.js';
import { caPem, connectDevice, Inbox, provisionDevice, request, type Device } from '../helpers/devices.js';
import { DIALECTS } from '../helpers/postgres.js';
import { s3Client } from '../helpers/s3.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';

const ACCOUNT = '000000000000';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/ota-role`;
const thingArn = (name: string): string => `arn:aws:iot:${TEST_REGION}:${ACCOUNT}:thing/${name}`;

async function rejection(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

function download(t: TestServer, url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: caPem(t) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      })
      .on('error', reject);
  });
}

type AfrFile = Record<string, unknown>;
type AfrDoc = { afr_ota: { protocols: string[]; streamname?: string; files: AfrFile[] } };

describe.each(DIALECTS)('CreateOTAUpdate (issue 20 item 3, %s)', (dialect) => {
  let t: TestServer;
  let iot: IoTClient;
  let s3: S3Client;
  let signer: SignerClient;
  let device: Device;
  let client: MqttClient;
  let inbox: Inbox;
  let certPem: string;
  let version: string;
  const firmware = randomBytes(48 * 1024 + 5);

  const httpUpdate = (
    id: string,
    codeSigning: CodeSigning | undefined,
    extra: Partial<CreateOTAUpdateCommandInput> = {},
  ) =>
    iot.send(
      new CreateOTAUpdateCommand({
        otaUpdateId: id,
        targets: [thingArn('mcu-1')],
        protocols: ['HTTP'],
        files: [
          {
            fileName: '/device/firmware.bin',
            fileType: 0,
            fileLocation: { s3Location: { bucket: 'firmware', key: 'mcu/app.bin', version } },
            codeSigning,
          },
        ],
        roleArn: ROLE,
        ...extra,
      }),
    );
  const settled = async (id: string) => {
    await t.server.services.ota.worker.settled(id);
    return (await iot.send(new GetOTAUpdateCommand({ otaUpdateId: id }))).otaUpdateInfo!;
  };
  const documentOf = async (jobId: string): Promise<AfrDoc> =>
    JSON.parse((await iot.send(new GetJobDocumentCommand({ jobId }))).document!) as AfrDoc;

  beforeAll(async () => {
    t = await startTestServer({ dialect });
    iot = t.iot();
    s3 = s3Client(t);
    const base = { endpoint: t.endpoint, region: TEST_REGION, credentials: t.credentials, maxAttempts: 1 };
    signer = new SignerClient(base);
    const iam = new IAMClient(base);
    // The OTA service role (FreeRTOS "Create an OTA Update service role"): trusted by IoT, reads the firmware.
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'ota-role',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'iot.amazonaws.com' },
              Action: 'sts:AssumeRole',
              Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
            },
          ],
        }),
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'ota-role',
        PolicyName: 'read-firmware',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['s3:GetObject', 's3:GetObjectVersion'],
              Resource: ['arn:aws:s3:::firmware/*', 'arn:aws:s3:::plain/*'],
            },
          ],
        }),
      }),
    );
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'not-for-iot',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    iam.destroy();
    await s3.send(new CreateBucketCommand({ Bucket: 'firmware' }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'firmware', VersioningConfiguration: { Status: 'Enabled' } }),
    );
    version = (await s3.send(new PutObjectCommand({ Bucket: 'firmware', Key: 'mcu/app.bin', Body: firmware })))
      .VersionId!;
    await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
    await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'app.bin', Body: firmware }));
    await s3.send(new CreateBucketCommand({ Bucket: 'secret' }));
    await s3.send(new PutObjectCommand({ Bucket: 'secret', Key: 'app.bin', Body: firmware }));
    // A FreeRTOS profile: certname is where the device keeps the code-signing certificate (spec 6.6).
    await signer.send(
      new PutSigningProfileCommand({
        profileName: 'mcu_profile',
        platformId: 'AmazonFreeRTOS-Default',
        signingParameters: { certname: '/certs/code-sign.crt' },
      }),
    );
    const profile = await t.server.services.signing.profiles.getSigningProfile('mcu_profile');
    certPem = (await t.server.services.signing.certificates.getCertificate(profile.signingMaterial.certificateArn))
      .Certificate;
    device = await provisionDevice(t, iot, 'mcu-1');
    await iot.send(new CreateThingCommand({ thingName: 'mcu-2' }));
    client = await connectDevice(t, device, 'mcu-1');
    inbox = new Inbox(client);
    await client.subscribeAsync('$aws/things/mcu-1/jobs/#', { qos: 1 });
  });
  afterAll(async () => {
    client?.end(true);
    s3?.destroy();
    signer?.destroy();
    await t?.stop();
  });

  it('HTTP with a signing profile: CREATE_PENDING, then the job AFR_OTA-<id> with an afr_ota document a device can use', async () => {
    const created = await httpUpdate('fw-http-1', {
      startSigningJobParameter: {
        signingProfileName: 'mcu_profile',
        destination: { s3Destination: { bucket: 'firmware', prefix: 'SignedImages/' } },
      },
    });
    expect(created).toMatchObject({
      otaUpdateId: 'fw-http-1',
      otaUpdateArn: `arn:aws:iot:${TEST_REGION}:${ACCOUNT}:otaupdate/fw-http-1`,
      otaUpdateStatus: 'CREATE_PENDING',
    });
    const info = await settled('fw-http-1');
    expect(info).toMatchObject({
      otaUpdateStatus: 'CREATE_COMPLETE',
      awsIotJobId: 'AFR_OTA-fw-http-1',
      awsIotJobArn: `arn:aws:iot:${TEST_REGION}:${ACCOUNT}:job/AFR_OTA-fw-http-1`,
      protocols: ['HTTP'],
      targets: [thingArn('mcu-1')],
      targetSelection: 'SNAPSHOT',
    });
    expect(info.errorInfo).toBeUndefined();
    const signerJobId = info.otaUpdateFiles![0]!.codeSigning!.awsSignerJobId!;
    expect(signerJobId).toMatch(/^[0-9a-f-]{36}$/);
    const stored = await documentOf('AFR_OTA-fw-http-1');
    expect(stored).toEqual({
      afr_ota: {
        protocols: ['HTTP'],
        files: [
          {
            filepath: '/device/firmware.bin',
            filesize: firmware.length,
            fileid: 0,
            certfile: '/certs/code-sign.crt',
            fileType: 0,
            update_data_url: `\${aws:iot:s3-presigned-url:https://s3.${TEST_REGION}.amazonaws.com/firmware/mcu/app.bin?versionId=${version}}`,
            auth_scheme: 'aws.s3.presigned',
            'sig-sha256-ecdsa': expect.stringMatching(/^[A-Za-z0-9+/]+=*$/) as string,
          },
        ],
      },
    });
    const sig = Buffer.from(stored.afr_ota.files[0]!['sig-sha256-ecdsa'] as string, 'base64');
    expect(verify('sha256', firmware, certPem, sig)).toBe(true);
    // Presigned URLs last 1800 s unless awsJobPresignedUrlConfig says otherwise (API_AwsJobPresignedUrlConfig).
    const job = (await iot.send(new DescribeJobCommand({ jobId: 'AFR_OTA-fw-http-1' }))).job!;
    expect(job.presignedUrlConfig).toEqual({ roleArn: ROLE, expiresInSec: 1800 });
    // What the device sees: the library's `$aws/things/<thing>/jobs/$next/get` (ota_mqtt.c) answer.
    const next = await request(client, inbox, '$aws/things/mcu-1/jobs/$next/get', { clientToken: '0:mcu-1' });
    expect(next.topic).toBe('$aws/things/mcu-1/jobs/$next/get/accepted');
    const execution = next.payload.execution as { jobId: string; jobDocument: AfrDoc };
    expect(execution.jobId).toBe('AFR_OTA-fw-http-1');
    const file = execution.jobDocument.afr_ota.files[0]!;
    expect(file.update_data_url).toMatch(
      /^https:\/\/.*\/firmware\/mcu\/app\.bin\?.*X-Amz-Expires=1800.*X-Amz-Signature=/,
    );
    const got = await download(t, file.update_data_url as string);
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(firmware).digest('hex'));
    expect(verify('sha256', got, certPem, Buffer.from(file['sig-sha256-ecdsa'] as string, 'base64'))).toBe(true);
  });

  it('MQTT: the update makes the stream AFR_OTA-<uuid> of the signed object version; the document names it', async () => {
    await httpUpdate(
      'fw-mqtt-1',
      { startSigningJobParameter: { signingProfileName: 'mcu_profile' } },
      {
        protocols: ['MQTT'],
        targets: [thingArn('mcu-2')],
      },
    );
    const info = await settled('fw-mqtt-1');
    expect(info.otaUpdateStatus).toBe('CREATE_COMPLETE');
    expect(info.protocols).toEqual(['MQTT']);
    const doc = await documentOf('AFR_OTA-fw-mqtt-1');
    const streamname = doc.afr_ota.streamname!;
    expect(streamname).toMatch(/^AFR_OTA-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(doc.afr_ota).toEqual({
      protocols: ['MQTT'],
      streamname,
      files: [
        {
          filepath: '/device/firmware.bin',
          filesize: firmware.length,
          fileid: 0,
          certfile: '/certs/code-sign.crt',
          fileType: 0,
          'sig-sha256-ecdsa': expect.any(String) as string,
        },
      ],
    });
    const stream = (await iot.send(new DescribeStreamCommand({ streamId: streamname }))).streamInfo!;
    expect(stream).toMatchObject({
      streamId: streamname,
      roleArn: ROLE,
      files: [{ fileId: 0, s3Location: { bucket: 'firmware', key: 'mcu/app.bin', version } }],
    });
    // The stream stays while the update uses it.
    expect(await rejection(iot.send(new DeleteStreamCommand({ streamId: streamname })))).toMatchObject({
      name: 'DeleteConflictException',
      status: 409,
    });
    // Both protocols: the device chooses (streamname and update_data_url).
    await httpUpdate(
      'fw-both-1',
      { startSigningJobParameter: { signingProfileName: 'mcu_profile' } },
      {
        protocols: ['MQTT', 'HTTP'],
        targets: [thingArn('mcu-2')],
      },
    );
    expect((await settled('fw-both-1')).otaUpdateStatus).toBe('CREATE_COMPLETE');
    const both = (await documentOf('AFR_OTA-fw-both-1')).afr_ota;
    expect(both.protocols).toEqual(['MQTT', 'HTTP']);
    expect(both.streamname).toMatch(/^AFR_OTA-/);
    expect(both.files[0]).toMatchObject({ fileid: 0, auth_scheme: 'aws.s3.presigned' });
  });

  it('MQTT from a stream the caller made: its file id; DeleteOTAUpdate deleteStream keeps a stream it did not make', async () => {
    await iot.send(
      new CreateStreamCommand({
        streamId: 'mcu-images',
        files: [
          { fileId: 3, s3Location: { bucket: 'plain', key: 'app.bin' } },
          { fileId: 7, s3Location: { bucket: 'firmware', key: 'mcu/app.bin', version } },
        ],
        roleArn: ROLE,
      }),
    );
    await iot.send(
      new CreateOTAUpdateCommand({
        otaUpdateId: 'fw-stream-1',
        targets: [thingArn('mcu-2')],
        files: [
          {
            fileName: 'app.bin',
            fileLocation: { stream: { streamId: 'mcu-images', fileId: 7 } },
            codeSigning: { startSigningJobParameter: { signingProfileName: 'mcu_profile' } },
          },
        ],
        roleArn: ROLE,
      }),
    );
    const info = await settled('fw-stream-1');
    expect(info.otaUpdateStatus).toBe('CREATE_COMPLETE');
    const doc = await documentOf('AFR_OTA-fw-stream-1');
    expect(doc.afr_ota.streamname).toBe('mcu-images');
    expect(doc.afr_ota.files[0]).toMatchObject({ fileid: 7, filesize: firmware.length });
    const sig = Buffer.from(doc.afr_ota.files[0]!['sig-sha256-ecdsa'] as string, 'base64');
    expect(verify('sha256', firmware, certPem, sig)).toBe(true);
    // A stream file that is not there fails the update.
    await iot.send(
      new CreateOTAUpdateCommand({
        otaUpdateId: 'fw-stream-bad',
        targets: [thingArn('mcu-2')],
        files: [{ fileName: 'x', fileLocation: { stream: { streamId: 'mcu-images', fileId: 9 } } }],
        roleArn: ROLE,
      }),
    );
    expect((await settled('fw-stream-bad')).errorInfo).toEqual({
      code: 'ResourceNotFoundException',
      message: 'files[0]: stream mcu-images has no file 9.',
    });
    await iot.send(
      new DeleteOTAUpdateCommand({ otaUpdateId: 'fw-stream-1', deleteStream: true, forceDeleteAWSJob: true }),
    );
    expect((await iot.send(new DescribeStreamCommand({ streamId: 'mcu-images' }))).streamInfo!.streamId).toBe(
      'mcu-images',
    );
  });

  it('DeleteOTAUpdate deleteStream deletes the stream the update made', async () => {
    const streamname = (await documentOf('AFR_OTA-fw-mqtt-1')).afr_ota.streamname!;
    await iot.send(
      new DeleteOTAUpdateCommand({ otaUpdateId: 'fw-mqtt-1', deleteStream: true, forceDeleteAWSJob: true }),
    );
    expect(await rejection(iot.send(new DescribeStreamCommand({ streamId: streamname })))).toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('an existing Signer job: its signature, checked to be of the same object version', async () => {
    const { jobId } = await signer.send(
      new StartSigningJobCommand({
        source: { s3: { bucketName: 'firmware', key: 'mcu/app.bin', version } },
        destination: { s3: { bucketName: 'firmware', prefix: 'SignedImages/' } },
        profileName: 'mcu_profile',
        clientRequestToken: 'ota-existing-1',
      }),
    );
    await httpUpdate('fw-signed-1', { awsSignerJobId: jobId }, { targets: [thingArn('mcu-2')] });
    const info = await settled('fw-signed-1');
    expect(info.otaUpdateStatus).toBe('CREATE_COMPLETE');
    const signing = await t.server.services.signing.jobs.requireJob(jobId!);
    const doc = await documentOf('AFR_OTA-fw-signed-1');
    expect(doc.afr_ota.files[0]!['sig-sha256-ecdsa']).toBe(signing.signature);
    expect(doc.afr_ota.files[0]!.certfile).toBe('/certs/code-sign.crt');
  });

  it('a custom signature: the caller signs; key from its algorithms, certfile from the certificate name', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = cryptoSign('sha256', firmware, privateKey);
    await httpUpdate(
      'fw-custom-1',
      {
        customCodeSigning: {
          signature: { inlineDocument: der },
          certificateChain: { certificateName: 'ecdsa-signer.crt', inlineDocument: '-----BEGIN CERTIFICATE-----' },
          hashAlgorithm: 'SHA256',
          signatureAlgorithm: 'ECDSA',
        },
      },
      { targets: [thingArn('mcu-2')] },
    );
    expect((await settled('fw-custom-1')).otaUpdateStatus).toBe('CREATE_COMPLETE');
    const f = (await documentOf('AFR_OTA-fw-custom-1')).afr_ota.files[0]!;
    expect(f['sig-sha256-ecdsa']).toBe(der.toString('base64'));
    expect(f.certfile).toBe('ecdsa-signer.crt');
  });

  it('CREATE_FAILED with errorInfo when the build cannot be done', async () => {
    const cases: [string, Partial<CreateOTAUpdateCommandInput>, RegExp, RegExp][] = [
      [
        'fw-missing',
        { files: [{ fileName: 'x', fileLocation: { s3Location: { bucket: 'firmware', key: 'nope.bin' } } }] },
        /^ResourceNotFoundException$/,
        /files\[0\]: s3:\/\/firmware\/nope\.bin does not exist/,
      ],
      [
        'fw-norole',
        { roleArn: `arn:aws:iam::${ACCOUNT}:role/missing` },
        /^AccessDeniedException$/,
        /role\/missing does not exist/,
      ],
      [
        'fw-trust',
        { roleArn: `arn:aws:iam::${ACCOUNT}:role/not-for-iot` },
        /^AccessDeniedException$/,
        /does not let iot\.amazonaws\.com assume it/,
      ],
      [
        'fw-unversioned',
        {
          files: [
            {
              fileName: 'x',
              fileLocation: { s3Location: { bucket: 'plain', key: 'app.bin' } },
              codeSigning: { startSigningJobParameter: { signingProfileName: 'mcu_profile' } },
            },
          ],
          roleArn: ROLE,
        },
        /^ValidationException$/,
        /files\[0\]: .*The source bucket plain is not versioned/,
      ],
      [
        'fw-noread',
        { files: [{ fileName: 'x', fileLocation: { s3Location: { bucket: 'secret', key: 'app.bin' } } }] },
        /^AccessDeniedException$/,
        /files\[0\]: role ota-role does not allow s3:GetObject on arn:aws:s3:::secret\/app\.bin/,
      ],
      [
        'fw-noprofile',
        {
          files: [
            {
              fileName: 'x',
              fileLocation: { s3Location: { bucket: 'firmware', key: 'mcu/app.bin' } },
              codeSigning: { startSigningJobParameter: { signingProfileName: 'no_such_profile' } },
            },
          ],
        },
        /^ResourceNotFoundException$/,
        /signing profile no_such_profile does not exist/,
      ],
      [
        'fw-badsigner',
        {
          files: [
            {
              fileName: 'x',
              fileLocation: { s3Location: { bucket: 'firmware', key: 'mcu/app.bin' } },
              codeSigning: { awsSignerJobId: '00000000-0000-0000-0000-000000000000' },
            },
          ],
        },
        /^ResourceNotFoundException$/,
        /Signing job 0{8}-0{4}-0{4}-0{4}-0{12} does not exist/,
      ],
    ];
    for (const [id, extra, code, message] of cases) {
      await iot.send(
        new CreateOTAUpdateCommand({
          otaUpdateId: id,
          targets: [thingArn('mcu-1')],
          protocols: ['HTTP'],
          files: [{ fileName: 'x', fileLocation: { s3Location: { bucket: 'firmware', key: 'mcu/app.bin' } } }],
          roleArn: ROLE,
          ...extra,
        }),
      );
      const info = await settled(id);
      expect(info.otaUpdateStatus, id).toBe('CREATE_FAILED');
      expect(info.errorInfo?.code, id).toMatch(code);
      expect(info.errorInfo?.message, id).toMatch(message);
      expect(info.awsIotJobId, id).toBeUndefined();
    }
    const failed = await iot.send(new ListOTAUpdatesCommand({ otaUpdateStatus: 'CREATE_FAILED' }));
    expect(failed.otaUpdates!.map((u) => u.otaUpdateId).sort()).toEqual(
      [...cases.map(([id]) => id), 'fw-stream-bad'].sort(),
    );
  });

  it('the TI CC3220SF platform signs SHA1withRSA: the key is sig-sha1-rsa', async () => {
    await signer.send(
      new PutSigningProfileCommand({ profileName: 'mcu_rsa', platformId: 'AmazonFreeRTOS-TI-CC3220SF' }),
    );
    await httpUpdate(
      'fw-rsa',
      { startSigningJobParameter: { signingProfileName: 'mcu_rsa' } },
      {
        targets: [thingArn('mcu-2')],
      },
    );
    const info = await settled('fw-rsa');
    // The CC3220SF platform signs SHA1withRSA: the key is sig-sha1-rsa (spec 6.5).
    expect(info.otaUpdateStatus).toBe('CREATE_COMPLETE');
    const f = (await documentOf('AFR_OTA-fw-rsa')).afr_ota.files[0]!;
    expect(Object.keys(f)).toContain('sig-sha1-rsa');
  });

  it('lists with paging and a status filter; tags go on the update ARN', async () => {
    const first = await iot.send(new ListOTAUpdatesCommand({ maxResults: 2 }));
    expect(first.otaUpdates).toHaveLength(2);
    expect(first.otaUpdates![0]).toEqual({
      otaUpdateId: expect.any(String) as string,
      otaUpdateArn: expect.stringMatching(/^arn:aws:iot:us-east-1:000000000000:otaupdate\/fw-/) as string,
      creationDate: expect.any(Date) as Date,
    });
    const rest = await iot.send(new ListOTAUpdatesCommand({ maxResults: 250, nextToken: first.nextToken }));
    expect(rest.nextToken).toBeUndefined();
    const all = [...first.otaUpdates!, ...rest.otaUpdates!].map((u) => u.otaUpdateId);
    expect(new Set(all).size).toBe(all.length);
    const complete = await iot.send(new ListOTAUpdatesCommand({ otaUpdateStatus: 'CREATE_COMPLETE' }));
    expect(complete.otaUpdates!.map((u) => u.otaUpdateId).sort()).toEqual([
      'fw-both-1',
      'fw-custom-1',
      'fw-http-1',
      'fw-rsa',
      'fw-signed-1',
    ]);
    await httpUpdate('fw-tagged', undefined, { tags: [{ Key: 'release', Value: '1.2' }] });
    await settled('fw-tagged');
    const tags = await iot.send(
      new ListTagsForResourceCommand({ resourceArn: `arn:aws:iot:${TEST_REGION}:${ACCOUNT}:otaupdate/fw-tagged` }),
    );
    expect(tags.tags).toEqual([{ Key: 'release', Value: '1.2' }]);
  });

  it('refuses bad requests with AWS errors, from the SDK and from the aws CLI', async () => {
    const base = {
      otaUpdateId: 'fw-bad',
      targets: [thingArn('mcu-1')],
      files: [{ fileName: 'x', fileLocation: { s3Location: { bucket: 'firmware', key: 'mcu/app.bin' } } }],
      roleArn: ROLE,
    };
    const send = (input: Record<string, unknown>) =>
      rejection(iot.send(new CreateOTAUpdateCommand({ ...base, ...input } as CreateOTAUpdateCommandInput)));
    expect(await send({ protocols: ['FTP'] })).toMatchObject({
      name: 'InvalidRequestException',
      status: 400,
      message: expect.stringMatching(/protocols\.1\.member.*enum value set: \[MQTT, HTTP\]/) as string,
    });
    expect(await send({ files: [] })).toMatchObject({ name: 'InvalidRequestException' });
    expect(await send({ files: [{ fileName: 'x' }] })).toMatchObject({
      name: 'InvalidRequestException',
      message: 'files[0].fileLocation must name either a stream or an s3Location.',
    });
    expect(
      await send({
        files: [
          {
            fileLocation: { s3Location: { bucket: 'firmware', key: 'k' } },
            codeSigning: { awsSignerJobId: 'a', customCodeSigning: {} },
          },
        ],
      }),
    ).toMatchObject({ name: 'InvalidRequestException', message: expect.stringMatching(/exactly one of/) as string });
    expect(await send({ targets: ['arn:aws:iot:us-east-1:000000000000:job/x'] })).toMatchObject({
      name: 'InvalidRequestException',
    });
    expect(await send({ otaUpdateId: 'x'.repeat(57) })).toMatchObject({
      name: 'InvalidRequestException',
      message: expect.stringMatching(/longer than 64/) as string,
    });
    expect(await send({ otaUpdateId: 'fw-http-1' })).toMatchObject({
      name: 'ResourceAlreadyExistsException',
      status: 409,
    });
    expect(await rejection(iot.send(new GetOTAUpdateCommand({ otaUpdateId: 'nope' })))).toMatchObject({
      name: 'ResourceNotFoundException',
      status: 404,
    });
    expect(await rejection(iot.send(new ListOTAUpdatesCommand({ otaUpdateStatus: 'DONE' as never })))).toMatchObject({
      name: 'InvalidRequestException',
    });
    // The aws CLI (Debian's v2, signing execute-api) gets the same error, by name.
    const cli = await awsCli(t.endpoint, t.awsEnv(), [
      'iot',
      'create-ota-update',
      '--ota-update-id',
      'fw-cli-bad',
      '--targets',
      thingArn('mcu-1'),
      '--protocols',
      'HTTP',
      '--files',
      JSON.stringify([{ fileName: 'x' }]),
      '--role-arn',
      ROLE,
    ]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(
      /\(InvalidRequestException\) when calling the CreateOTAUpdate operation.*: files\[0\]\.fileLocation/,
    );
  });

  it('the aws CLI creates, gets and lists OTA updates', async () => {
    const created = await awsCli(t.endpoint, t.awsEnv(), [
      'iot',
      'create-ota-update',
      '--ota-update-id',
      'fw-cli-1',
      '--targets',
      thingArn('mcu-2'),
      '--protocols',
      'HTTP',
      '--files',
      JSON.stringify([
        {
          fileName: 'fw.bin',
          fileLocation: { s3Location: { bucket: 'firmware', key: 'mcu/app.bin', version } },
          codeSigning: { startSigningJobParameter: { signingProfileName: 'mcu_profile' } },
        },
      ]),
      '--role-arn',
      ROLE,
      '--aws-job-presigned-url-config',
      'expiresInSec=600',
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.json).toMatchObject({ otaUpdateId: 'fw-cli-1', otaUpdateStatus: 'CREATE_PENDING' });
    await t.server.services.ota.worker.settled('fw-cli-1');
    const got = await awsCli(t.endpoint, t.awsEnv(), ['iot', 'get-ota-update', '--ota-update-id', 'fw-cli-1']);
    expect(got.json).toMatchObject({
      otaUpdateInfo: {
        otaUpdateStatus: 'CREATE_COMPLETE',
        awsIotJobId: 'AFR_OTA-fw-cli-1',
        awsJobPresignedUrlConfig: { expiresInSec: 600 },
      },
    });
    const listed = await awsCli(t.endpoint, t.awsEnv(), [
      'iot',
      'list-ota-updates',
      '--ota-update-status',
      'CREATE_COMPLETE',
    ]);
    expect((listed.json as { otaUpdates: { otaUpdateId: string }[] }).otaUpdates.map((u) => u.otaUpdateId)).toContain(
      'fw-cli-1',
    );
  });

  it('DeleteOTAUpdate: an IN_PROGRESS job needs forceDeleteAWSJob; then the update and its job go', async () => {
    const refused = await rejection(iot.send(new DeleteOTAUpdateCommand({ otaUpdateId: 'fw-http-1' })));
    expect(refused).toMatchObject({
      name: 'InvalidRequestException',
      message: expect.stringMatching(/IN_PROGRESS.*forceDeleteAWSJob=true/) as string,
    });
    await iot.send(
      new DeleteOTAUpdateCommand({ otaUpdateId: 'fw-http-1', forceDeleteAWSJob: true, deleteStream: true }),
    );
    expect(await rejection(iot.send(new GetOTAUpdateCommand({ otaUpdateId: 'fw-http-1' })))).toMatchObject({
      name: 'ResourceNotFoundException',
    });
    const job = await iot
      .send(new DescribeJobCommand({ jobId: 'AFR_OTA-fw-http-1' }))
      .then((r) => r.job!.status)
      .catch((err: Error) => err.name);
    expect(['DELETION_IN_PROGRESS', 'ResourceNotFoundException']).toContain(job);
    // A failed update has no job: it simply goes.
    const cli = await awsCli(t.endpoint, t.awsEnv(), ['iot', 'delete-ota-update', '--ota-update-id', 'fw-missing']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(await rejection(iot.send(new DeleteOTAUpdateCommand({ otaUpdateId: 'fw-missing' })))).toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});
