import {
  CreateBucketCommand,
  GetObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  CancelSigningProfileCommand,
  DescribeSigningJobCommand,
  GetSigningPlatformCommand,
  GetSigningProfileCommand,
  ListSigningJobsCommand,
  ListSigningPlatformsCommand,
  ListSigningProfilesCommand,
  ListTagsForResourceCommand,
  PutSigningProfileCommand,
  SignerClient,
  StartSigningJobCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type StartSigningJobCommandInput,
} from '@aws-sdk/client-signer';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyFile } from '../../src/signing/verify.js';
import { DIALECTS } from '../helpers/postgres.js';
import { s3Client } from '../helpers/s3.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';
import { rejection } from '../helpers/rejection.js';

describe.each(DIALECTS)('AWS Signer API with @aws-sdk/client-signer (%s)', (dialect) => {
  let t: TestServer;
  let signer: SignerClient;
  let s3: S3Client;
  const firmware = randomBytes(300_000);
  let version: string;

  const start = (over: Partial<StartSigningJobCommandInput> = {}) =>
    signer.send(
      new StartSigningJobCommand({
        profileName: 'fw_ecdsa',
        clientRequestToken: randomUUID(),
        source: { s3: { bucketName: 'firmware', key: 'fw/app.bin', version } },
        destination: { s3: { bucketName: 'signed', prefix: 'out/' } },
        ...over,
      }),
    );

  beforeAll(async () => {
    t = await startTestServer({ dialect });
    signer = new SignerClient({
      endpoint: t.endpoint,
      region: TEST_REGION,
      credentials: t.credentials,
      maxAttempts: 1,
    });
    s3 = s3Client(t);
    for (const b of ['firmware', 'signed', 'plain']) await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'firmware', VersioningConfiguration: { Status: 'Enabled' } }),
    );
    version = (await s3.send(new PutObjectCommand({ Bucket: 'firmware', Key: 'fw/app.bin', Body: firmware })))
      .VersionId!;
    await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'fw/app.bin', Body: firmware }));
  });
  afterAll(async () => {
    signer?.destroy();
    s3?.destroy();
    await t?.stop();
  });

  it('lists and describes the platforms (spec 6.6), including an RSA one', async () => {
    const all = await signer.send(new ListSigningPlatformsCommand({}));
    const ids = all.platforms!.map((p) => p.platformId);
    expect(ids).toEqual(
      expect.arrayContaining([
        'AWSIoTDeviceManagement-SHA256-ECDSA',
        'AmazonFreeRTOS-Default',
        'AmazonFreeRTOS-TI-CC3220SF',
        'fleetjobs-SHA256-RSA',
      ]),
    );
    const p = await signer.send(new GetSigningPlatformCommand({ platformId: 'AmazonFreeRTOS-Default' }));
    expect(p).toMatchObject({
      platformId: 'AmazonFreeRTOS-Default',
      displayName: 'Amazon FreeRTOS SHA256-ECDSA',
      category: 'AWSIoT',
      signingConfiguration: {
        encryptionAlgorithmOptions: { allowedValues: ['ECDSA'], defaultValue: 'ECDSA' },
        hashAlgorithmOptions: { allowedValues: ['SHA256'], defaultValue: 'SHA256' },
      },
      signingImageFormat: { supportedFormats: ['JSONEmbedded'], defaultFormat: 'JSONEmbedded' },
      maxSizeInMB: 16,
    });
    const ti = await signer.send(new GetSigningPlatformCommand({ platformId: 'AmazonFreeRTOS-TI-CC3220SF' }));
    expect(ti.signingConfiguration?.encryptionAlgorithmOptions?.defaultValue).toBe('RSA');
    expect(ti.signingConfiguration?.hashAlgorithmOptions?.defaultValue).toBe('SHA1');
    const page = await signer.send(new ListSigningPlatformsCommand({ maxResults: 3 }));
    expect(page.platforms).toHaveLength(3);
    const rest = await signer.send(new ListSigningPlatformsCommand({ maxResults: 3, nextToken: page.nextToken }));
    expect([...page.platforms!, ...rest.platforms!].map((x) => x.platformId)).toEqual(ids);
    expect(await rejection(signer.send(new GetSigningPlatformCommand({ platformId: 'Nope' })))).toMatchObject({
      name: 'ResourceNotFoundException',
      status: 404,
    });
  });

  it('puts a profile with generated material, gets and lists it', async () => {
    const put = await signer.send(
      new PutSigningProfileCommand({
        profileName: 'fw_ecdsa',
        platformId: 'AWSIoTDeviceManagement-SHA256-ECDSA',
        signingParameters: { certname: 'signer.crt' },
        tags: { team: 'firmware' },
      }),
    );
    expect(put.arn).toBe('arn:aws:signer:us-east-1:000000000000:/signing-profiles/fw_ecdsa');
    expect(put.profileVersion).toMatch(/^[A-Z0-9]{10}$/);
    expect(put.profileVersionArn).toBe(`${put.arn}/${put.profileVersion}`);
    const got = await signer.send(new GetSigningProfileCommand({ profileName: 'fw_ecdsa' }));
    expect(got).toMatchObject({
      profileName: 'fw_ecdsa',
      profileVersion: put.profileVersion,
      platformId: 'AWSIoTDeviceManagement-SHA256-ECDSA',
      platformDisplayName: 'AWS IoT Device Management SHA256-ECDSA ',
      signatureValidityPeriod: { value: 135, type: 'MONTHS' },
      signingParameters: { certname: 'signer.crt' },
      status: 'Active',
      tags: { team: 'firmware' },
    });
    expect(got.signingMaterial?.certificateArn).toMatch(
      /^arn:aws:acm:us-east-1:000000000000:certificate\/[0-9a-f-]{36}$/,
    );
    // The private key is sealed at rest: the row holds no PEM key.
    const row = await t.server.store.db
      .selectFrom('signing_certificates')
      .selectAll()
      .where('arn', '=', got.signingMaterial!.certificateArn!)
      .executeTakeFirstOrThrow();
    expect(row.private_key_sealed).not.toMatch(/PRIVATE KEY/);
    expect(row.key_algorithm).toBe('EC_prime256v1');
    const list = await signer.send(new ListSigningProfilesCommand({}));
    expect(list.profiles!.map((p) => p.profileName)).toEqual(['fw_ecdsa']);
  });

  it('refuses a duplicate name, a bad name, an unknown platform and overrides outside the platform', async () => {
    const put = (over: object) =>
      signer.send(new PutSigningProfileCommand({ profileName: 'p2', platformId: 'AmazonFreeRTOS-Default', ...over }));
    expect(await rejection(put({ profileName: 'fw_ecdsa' }))).toMatchObject({
      name: 'ConflictException',
      status: 409,
      message: 'Profile with name fw_ecdsa already exists.',
    });
    expect(await rejection(put({ profileName: 'bad-name' }))).toMatchObject({
      name: 'ValidationException',
      status: 400,
    });
    expect(await rejection(put({ platformId: 'Nope' }))).toMatchObject({ name: 'ResourceNotFoundException' });
    expect(await rejection(put({ overrides: { signingConfiguration: { encryptionAlgorithm: 'RSA' } } }))).toMatchObject(
      {
        name: 'ValidationException',
        message: 'Platform AmazonFreeRTOS-Default signs with ECDSA, not RSA.',
      },
    );
    expect(
      await rejection(put({ signingMaterial: { certificateArn: 'arn:aws:acm:us-east-1:000000000000:certificate/x' } })),
    ).toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('signs an object version: the signed object of spec 6.4 under <prefix><jobId>, verifiable with the certificate', async () => {
    const started = await start();
    expect(started.jobOwner).toBe('000000000000');
    const job = await signer.send(new DescribeSigningJobCommand({ jobId: started.jobId }));
    expect(job).toMatchObject({
      jobId: started.jobId,
      status: 'Succeeded',
      statusReason: 'Signing Succeeded',
      profileName: 'fw_ecdsa',
      platformId: 'AWSIoTDeviceManagement-SHA256-ECDSA',
      source: { s3: { bucketName: 'firmware', key: 'fw/app.bin', version } },
      signedObject: { s3: { bucketName: 'signed', key: `out/${started.jobId}` } },
      requestedBy: 'arn:aws:iam::000000000000:root',
      jobOwner: '000000000000',
      signingParameters: { certname: 'signer.crt' },
    });
    expect(job.createdAt).toBeInstanceOf(Date);
    expect(job.signatureExpiresAt!.getTime()).toBeGreaterThan(job.createdAt!.getTime());
    const obj = await s3.send(new GetObjectCommand({ Bucket: 'signed', Key: `out/${started.jobId}` }));
    const text = await obj.Body!.transformToString();
    const block = JSON.parse(text) as { signature: string };
    expect(Object.keys(block)).toEqual(['rawPayloadSize', 'signature', 'signatureAlgorithm', 'payloadLocation']);
    expect(block).toMatchObject({
      rawPayloadSize: firmware.length,
      signatureAlgorithm: 'SHA256withECDSA',
      payloadLocation: { s3: { bucketName: 'firmware', key: 'fw/app.bin', version } },
    });
    const { Certificate } = await t.server.services.signing.certificates.getCertificate(
      job.signingMaterial!.certificateArn,
    );
    expect(
      await verifyFile({ file: firmware, signature: JSON.parse(text) as never, certificatePem: Certificate }),
    ).toMatchObject({
      ok: true,
    });
    const tampered = Buffer.from(firmware);
    tampered[0] = tampered[0]! ^ 0xff;
    expect((await verifyFile({ file: tampered, signature: block, certificatePem: Certificate })).ok).toBe(false);
    // The signed digest is kept for the delivery-time check.
    const row = await t.server.store.db
      .selectFrom('signing_jobs')
      .select('payload_sha256')
      .where('job_id', '=', started.jobId!)
      .executeTakeFirstOrThrow();
    expect(row.payload_sha256).toBe(createHash('sha256').update(firmware).digest('hex'));
  });

  it('answers the same job for the same clientRequestToken, and refuses the token for another request', async () => {
    const token = randomUUID();
    const a = await start({ clientRequestToken: token });
    const b = await start({ clientRequestToken: token });
    expect(b.jobId).toBe(a.jobId);
    expect(
      await rejection(
        start({ clientRequestToken: token, source: { s3: { bucketName: 'firmware', key: 'x', version } } }),
      ),
    ).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('already used') as string });
  });

  it('refuses an unversioned bucket, a wrong version or key, missing buckets and an unknown profile', async () => {
    expect(
      await rejection(start({ source: { s3: { bucketName: 'plain', key: 'fw/app.bin', version: 'null' } } })),
    ).toMatchObject({
      name: 'ValidationException',
      status: 400,
      message: expect.stringContaining('The source bucket plain is not versioned') as string,
    });
    expect(
      await rejection(start({ source: { s3: { bucketName: 'firmware', key: 'fw/app.bin', version: 'nope' } } })),
    ).toMatchObject({ name: 'ValidationException', message: 's3://firmware/fw/app.bin has no version nope.' });
    expect(
      await rejection(start({ source: { s3: { bucketName: 'firmware', key: 'fw/other.bin', version } } })),
    ).toMatchObject({ name: 'ValidationException', message: `s3://firmware/fw/other.bin has no version ${version}.` });
    expect(
      await rejection(start({ source: { s3: { bucketName: 'nobucket', key: 'k', version: 'v' } } })),
    ).toMatchObject({ name: 'ValidationException', message: 'The source bucket nobucket does not exist.' });
    expect(await rejection(start({ destination: { s3: { bucketName: 'nobucket' } } }))).toMatchObject({
      name: 'ValidationException',
      message: 'The destination bucket nobucket does not exist.',
    });
    expect(await rejection(start({ profileName: 'no_such_profile' }))).toMatchObject({
      name: 'ResourceNotFoundException',
      status: 404,
      message: 'Signing profile no_such_profile does not exist.',
    });
    expect(await rejection(start({ source: undefined }))).toMatchObject({ name: 'ValidationException' });
  });

  it('lists signing jobs newest first with paging and filters', async () => {
    const all = await signer.send(new ListSigningJobsCommand({}));
    expect(all.jobs!.length).toBeGreaterThanOrEqual(2);
    expect(all.jobs![0]).toMatchObject({ status: 'Succeeded', isRevoked: false, profileName: 'fw_ecdsa' });
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await signer.send(new ListSigningJobsCommand({ maxResults: 1, nextToken }));
      seen.push(...page.jobs!.map((j) => j.jobId!));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(seen).toEqual(all.jobs!.map((j) => j.jobId));
    expect((await signer.send(new ListSigningJobsCommand({ status: 'Failed' }))).jobs).toEqual([]);
    expect((await signer.send(new ListSigningJobsCommand({ isRevoked: true }))).jobs).toEqual([]);
    const future = new Date(Date.now() + 20 * 365 * 86400_000);
    expect((await signer.send(new ListSigningJobsCommand({ signatureExpiresAfter: future }))).jobs).toEqual([]);
    expect((await signer.send(new ListSigningJobsCommand({ signatureExpiresBefore: future }))).jobs!.length).toBe(
      all.jobs!.length,
    );
  });

  it('fails signing jobs a crash left InProgress, and only old ones', async () => {
    const db = t.server.store.db;
    const row = await db.selectFrom('signing_jobs').selectAll().limit(1).executeTakeFirstOrThrow();
    const now = Date.now();
    for (const [id, age] of [
      ['crashed', 2 * 3600_000],
      ['running', 60_000],
    ] as const) {
      await db
        .insertInto('signing_jobs')
        .values({
          ...row,
          job_id: id,
          client_request_token: id,
          status: 'InProgress',
          status_reason: null,
          created_at: now - age,
        })
        .execute();
    }
    expect(await t.server.services.signing.jobs.failInterrupted()).toBe(1);
    expect(await signer.send(new DescribeSigningJobCommand({ jobId: 'crashed' }))).toMatchObject({
      status: 'Failed',
      statusReason: 'Signing failed: the server stopped while signing.',
    });
    expect((await signer.send(new DescribeSigningJobCommand({ jobId: 'running' }))).status).toBe('InProgress');
    await db.deleteFrom('signing_jobs').where('job_id', 'in', ['crashed', 'running']).execute();
  });

  it('tags a profile', async () => {
    const arn = 'arn:aws:signer:us-east-1:000000000000:/signing-profiles/fw_ecdsa';
    await signer.send(new TagResourceCommand({ resourceArn: arn, tags: { stage: 'prod' } }));
    expect((await signer.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual({
      team: 'firmware',
      stage: 'prod',
    });
    await signer.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['team'] }));
    expect((await signer.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual({ stage: 'prod' });
  });

  it('cancels a profile: it stays listed with includeCanceled and signs nothing more', async () => {
    await signer.send(new PutSigningProfileCommand({ profileName: 'old_rsa', platformId: 'fleetjobs-SHA256-RSA' }));
    await signer.send(new CancelSigningProfileCommand({ profileName: 'old_rsa' }));
    expect((await signer.send(new GetSigningProfileCommand({ profileName: 'old_rsa' }))).status).toBe('Canceled');
    const active = await signer.send(new ListSigningProfilesCommand({}));
    expect(active.profiles!.map((p) => p.profileName)).toEqual(['fw_ecdsa']);
    const withCanceled = await signer.send(new ListSigningProfilesCommand({ includeCanceled: true }));
    expect(withCanceled.profiles!.map((p) => [p.profileName, p.status])).toEqual([
      ['fw_ecdsa', 'Active'],
      ['old_rsa', 'Canceled'],
    ]);
    expect(await rejection(start({ profileName: 'old_rsa' }))).toMatchObject({
      name: 'ValidationException',
      message: 'Signing profile old_rsa is Canceled and cannot start signing jobs.',
    });
    expect(await rejection(signer.send(new CancelSigningProfileCommand({ profileName: 'nope' })))).toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});
