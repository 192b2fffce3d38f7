import { randomBytes } from 'node:crypto';
import {
  CreateThingCommand,
  DeleteOTAUpdateCommand,
  DescribeJobCommand,
  GetOTAUpdateCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { PutSigningProfileCommand, SignerClient } from '@aws-sdk/client-signer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { OTA_LEASE_MS } from '../../src/ota/ota-worker.js';
import * as repo from '../../src/ota/ota.repository.js';
import { DIALECTS } from '../helpers/postgres.js';
import { s3Client } from '../helpers/s3.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';

const ROLE = 'arn:aws:iam::000000000000:role/ota-role';

/**
 * The OTA worker as several replicas run it (DESIGN.md: periodic work is claimed through the
 * database). Time is a FakeClock; nothing sleeps. Rows are written straight to the table, as a
 * CreateOTAUpdate on another replica would have, so no worker is kicked by the test's own call.
 */
describe.each(DIALECTS)('OTA worker replicas (%s)', (dialect) => {
  let t: TestServer;
  let iot: IoTClient;
  const clock = new FakeClock(Date.now());

  const insert = (id: string, lease?: { owner: string; until: number }) =>
    repo.insertUpdate(t.server.services.ctx.db, {
      ota_update_id: id,
      status: lease ? 'CREATE_IN_PROGRESS' : 'CREATE_PENDING',
      description: null,
      targets: JSON.stringify(['arn:aws:iot:us-east-1:000000000000:thing/mcu-1']),
      protocols: JSON.stringify(['HTTP']),
      target_selection: null,
      rollout_config: null,
      presigned_url_config: null,
      abort_config: null,
      timeout_config: null,
      files: JSON.stringify([
        {
          fileName: 'app.bin',
          fileLocation: { s3Location: { bucket: 'firmware', key: 'app.bin' } },
          codeSigning: { startSigningJobParameter: { signingProfileName: 'mcu' } },
        },
      ]),
      role_arn: ROLE,
      additional_parameters: null,
      stream_id: null,
      stream_created: 0,
      aws_iot_job_id: null,
      error_code: null,
      error_message: null,
      lease_owner: lease?.owner ?? null,
      lease_until: lease?.until ?? 0,
      attempts: lease ? 1 : 0,
      created_at: clock.now().getTime(),
      updated_at: clock.now().getTime(),
    });

  beforeAll(async () => {
    t = await startTestServer({ dialect, clock });
    // Only the workers this test makes run.
    await t.server.services.ota.worker.stop();
    iot = t.iot();
    const base = { endpoint: t.endpoint, region: TEST_REGION, credentials: t.credentials, maxAttempts: 1 };
    const iam = new IAMClient(base);
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
              Condition: { StringEquals: { 'aws:SourceAccount': '000000000000' } },
            },
          ],
        }),
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'ota-role',
        PolicyName: 'read',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:GetObject*', Resource: 'arn:aws:s3:::firmware/*' }],
        }),
      }),
    );
    iam.destroy();
    const s3 = s3Client(t);
    await s3.send(new CreateBucketCommand({ Bucket: 'firmware' }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'firmware', VersioningConfiguration: { Status: 'Enabled' } }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'firmware', Key: 'app.bin', Body: randomBytes(4096) }));
    s3.destroy();
    const signer = new SignerClient(base);
    await signer.send(new PutSigningProfileCommand({ profileName: 'mcu', platformId: 'AmazonFreeRTOS-Default' }));
    signer.destroy();
    await iot.send(new CreateThingCommand({ thingName: 'mcu-1' }));
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('DeleteOTAUpdate of an update still being built is a VersionConflictException', async () => {
    await insert('pending-1');
    const err = await iot.send(new DeleteOTAUpdateCommand({ otaUpdateId: 'pending-1' })).catch((e: Error) => e);
    expect(err).toMatchObject({
      name: 'VersionConflictException',
      $metadata: { httpStatusCode: 409 },
      message: 'OTA update pending-1 is CREATE_PENDING; delete it when it is CREATE_COMPLETE or CREATE_FAILED.',
    });
    await repo.deleteUpdate(t.server.services.ctx.db, 'pending-1');
  });

  it('two replicas ticking at once: one builds the update, once (one signing job, one job)', async () => {
    await insert('race-1');
    const a = t.server.services.ota.newWorker();
    const b = t.server.services.ota.newWorker();
    const now = clock.now().getTime();
    const [ra, rb] = await Promise.all([a.tick(now), b.tick(now)]);
    expect([...ra.completed, ...rb.completed]).toEqual(['race-1']);
    const info = (await iot.send(new GetOTAUpdateCommand({ otaUpdateId: 'race-1' }))).otaUpdateInfo!;
    expect(info.otaUpdateStatus).toBe('CREATE_COMPLETE');
    expect((await iot.send(new DescribeJobCommand({ jobId: 'AFR_OTA-race-1' }))).job!.status).toBe('IN_PROGRESS');
    const signing = await t.server.services.signing.jobs.listSigningJobs({});
    expect(signing.jobs.filter((j) => j.source.s3.key === 'app.bin')).toHaveLength(1);
  });

  it('a replica that died mid-build: its lease holds until it expires, then another replica finishes the update', async () => {
    const now = clock.now().getTime();
    await insert('orphan-1', { owner: 'replica-that-died', until: now + OTA_LEASE_MS });
    const b = t.server.services.ota.newWorker();
    expect((await b.tick(now)).completed).toEqual([]);
    expect((await b.tick(clock.advance(OTA_LEASE_MS - 1).getTime())).completed).toEqual([]);
    expect((await b.tick(clock.advance(1).getTime())).completed).toEqual(['orphan-1']);
    const row = await repo.findUpdate(t.server.services.ctx.db, 'orphan-1');
    expect(row).toMatchObject({
      status: 'CREATE_COMPLETE',
      aws_iot_job_id: 'AFR_OTA-orphan-1',
      lease_owner: null,
      attempts: 2,
    });
    expect(row!.updated_at).toBe(clock.now().getTime());
  });
});
