import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  IoTJobsDataPlaneClient,
  StartNextPendingJobExecutionCommand,
  UpdateJobExecutionCommand,
} from '@aws-sdk/client-iot-jobs-data-plane';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliEnv } from '../helpers/cli.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';

describe('fleetjobs CLI: ota create / watch / list / delete against a real server', () => {
  let t: TestServer;
  let env: NodeJS.ProcessEnv;
  let device: IoTJobsDataPlaneClient;
  let role: string;
  const firmware = randomBytes(20_000);
  const run = (...args: string[]) => cli([...args, '--output', 'json'], { env, cwd: t.dataDir });

  beforeAll(async () => {
    t = await startTestServer();
    env = cliEnv(t);
    device = new IoTJobsDataPlaneClient({ endpoint: t.endpoint, region: TEST_REGION, credentials: t.credentials });
    writeFileSync(join(t.dataDir, 'fw.bin'), firmware);
    const made = await run('roles', 'create', 'ota-role', '--for', 'ota', '--allow-get', 's3://fleetjobs-ota');
    expect(made.code, made.stderr).toBe(0);
    role = made.json.arn as string;
    expect(made.json.trustPolicy.Statement[0].Condition.ArnLike['aws:SourceArn']).toEqual([
      'arn:aws:iot:us-east-1:000000000000:job/*',
      'arn:aws:iot:us-east-1:000000000000:stream/*',
      'arn:aws:iot:us-east-1:000000000000:otaupdate/*',
    ]);
    expect((await run('things', 'create', 'mcu-1')).code).toBe(0);
    const profile = await run(
      'signing', 'profiles', 'create', 'mcu_prof',
      '--platform', 'AmazonFreeRTOS-Default', '--params', 'certname=/certs/cs.crt',
    ); // prettier-ignore
    expect(profile.code, profile.stderr).toBe(0);
  });
  afterAll(async () => {
    device.destroy();
    await t.stop();
  });

  it('uploads a local image, creates the update, and watches it to CREATE_COMPLETE and then the job to its end', async () => {
    const made = await run(
      'ota', 'create', 'fw-1',
      '--file', 'fw.bin', '--file-name', '/images/app.bin',
      '--thing', 'mcu-1', '--protocols', 'HTTP',
      '--sign-with', 'mcu_prof', '--role', role,
    ); // prettier-ignore
    expect(made.code, made.stderr).toBe(0);
    expect(made.json).toMatchObject({
      otaUpdateId: 'fw-1',
      otaUpdateStatus: 'CREATE_PENDING',
      file: 's3://fleetjobs-ota/fw.bin',
    });
    const lines: string[] = [];
    const watching = cli(['ota', 'watch', 'fw-1', '--interval', '0.1'], {
      env,
      onStdout: (text) => lines.push(...text.split('\n').filter((l) => l !== '')),
    });
    const sawLine = async (re: RegExp) => {
      for (let i = 0; i < 200 && !lines.some((l) => re.test(l)); i++) await new Promise((r) => setTimeout(r, 25));
      expect(
        lines.some((l) => re.test(l)),
        lines.join('\n'),
      ).toBe(true);
    };
    await sawLine(/ ota fw-1 CREATE_COMPLETE job=AFR_OTA-fw-1$/);
    await sawLine(/ AFR_OTA-fw-1 IN_PROGRESS queued=1 /);
    // The device takes the update and reports success, as the FreeRTOS agent does after its self test.
    const next = await device.send(new StartNextPendingJobExecutionCommand({ thingName: 'mcu-1' }));
    const doc = next.execution!.jobDocument!;
    expect(JSON.parse(doc)).toMatchObject({
      afr_ota: {
        protocols: ['HTTP'],
        files: [{ filepath: '/images/app.bin', filesize: firmware.length, fileid: 0, certfile: '/certs/cs.crt' }],
      },
    });
    await device.send(
      new UpdateJobExecutionCommand({
        thingName: 'mcu-1',
        jobId: 'AFR_OTA-fw-1',
        status: 'SUCCEEDED',
        statusDetails: { self_test: 'accepted', updatedBy: '0x1000000' },
      }),
    );
    const r = await watching;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/job AFR_OTA-fw-1 COMPLETED after \d+:\d\d: 1 of 1 succeeded\n$/);
    expect(lines[0]).toMatch(/ ota fw-1 CREATE_(PENDING|IN_PROGRESS|COMPLETE)/);
  });

  it('MQTT from an s3:// file (the default protocol) makes a stream; describe and list show it', async () => {
    const made = await run(
      'ota', 'create', 'fw-2', '--file', 's3://fleetjobs-ota/fw.bin',
      '--thing', 'mcu-1', '--sign-with', 'mcu_prof', '--role', role,
    ); // prettier-ignore
    expect(made.code, made.stderr).toBe(0);
    const created = await cli(['ota', 'watch', 'fw-2', '--created', '--interval', '0.1', '--timeout', '20'], { env });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/ ota fw-2 CREATE_COMPLETE job=AFR_OTA-fw-2\n$/);
    const d = await run('ota', 'describe', 'fw-2');
    expect(d.json).toMatchObject({
      otaUpdateStatus: 'CREATE_COMPLETE',
      protocols: ['MQTT'],
      awsIotJobId: 'AFR_OTA-fw-2',
    });
    const listed = await run('ota', 'list', '--status', 'CREATE_COMPLETE');
    expect(listed.json.otaUpdates.map((u: { otaUpdateId: string }) => u.otaUpdateId)).toEqual(['fw-1', 'fw-2']);
  });

  it('watch ends with exit 8 and the reason when the update fails', async () => {
    const made = await run(
      'ota', 'create', 'fw-bad', '--file', 's3://fleetjobs-ota/missing.bin',
      '--thing', 'mcu-1', '--sign-with', 'mcu_prof', '--role', role,
    ); // prettier-ignore
    expect(made.code).toBe(0);
    const r = await cli(['ota', 'watch', 'fw-bad', '--interval', '0.1', '--timeout', '20'], { env });
    expect(r.code).toBe(8);
    expect(r.stdout).toMatch(/ ota fw-bad CREATE_FAILED\n$/);
    expect(r.stderr).toMatch(
      /^fleetjobs: OTA update fw-bad CREATE_FAILED: ResourceNotFoundException files\[0\]: s3:\/\/fleetjobs-ota\/missing\.bin does not exist/,
    );
  });

  it('usage errors exit 2, service errors keep their exit codes; delete removes the update and its job', async () => {
    const base = ['--thing', 'mcu-1', '--role', role];
    expect((await run('ota', 'create', 'x', '--file', 'nope.bin', ...base)).code).toBe(2);
    expect((await run('ota', 'create', 'x', '--file', 'fw.bin', '--protocols', 'FTP', ...base)).code).toBe(2);
    expect(
      (await run('ota', 'create', 'x', '--file', 'fw.bin', '--sign-with', 'a', '--signer-job', 'b', ...base)).code,
    ).toBe(2);
    const dup = await run('ota', 'create', 'fw-1', '--file', 's3://fleetjobs-ota/fw.bin', ...base);
    expect(dup.code).toBe(4);
    expect(dup.stderr).toMatch(/OTA update fw-1 already exists/);
    // fw-2's job is still IN_PROGRESS: deleting it needs --force (InvalidRequestException: exit 5).
    expect((await run('ota', 'delete', 'fw-2')).code).toBe(5);
    expect((await run('ota', 'delete', 'fw-2', '--force', '--delete-stream')).code).toBe(0);
    expect((await run('ota', 'describe', 'fw-2')).code).toBe(3);
  });
});
