import {
  CreateOTAUpdateCommand,
  DescribeJobExecutionCommand,
  GetJobDocumentCommand,
  GetOTAUpdateCommand,
  UpdateStreamCommand,
  type CreateOTAUpdateCommandInput,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { GetSigningProfileCommand, PutSigningProfileCommand, SignerClient } from '@aws-sdk/client-signer';
import { createSign, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCodeSigningMaterial } from '../../src/signing/generated-material.js';
import { provisionDevice } from '../helpers/devices.js';
import { OtaDevice, otaRoleTrust, type OtaDeviceOptions } from '../helpers/ota-device.js';
import { DIALECTS } from '../helpers/postgres.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';
import { ACCOUNT, allowRead, StreamFixture } from '../helpers/streams.js';

/**
 * FreeRTOS OTA end to end (issue 20): CreateOTAUpdate through @aws-sdk/client-iot signs an image with a
 * code-signing profile, makes the stream and the `AFR_OTA-<id>` job; a device downloads the image in blocks
 * over the MQTT file delivery topics (CBOR and JSON) or over HTTP (presigned `update_data_url`), checks the
 * `sig-sha256-ecdsa` signature with the profile's certificate and reports SUCCEEDED; a one-byte change of
 * the delivered image, or a wrong signature, makes it report FAILED.
 *
 * The device (test/helpers/ota-device.ts) replays the FreeRTOS OTA library's documented request and
 * response formats (aws/ota-for-aws-iot-embedded-sdk: ota_mqtt.c, ota_cbor.c, ota.c), because the C agent
 * cannot run inside the suite.
 *
 * The C agent itself was run by hand against a local server (the POSIX demo `ota_demo_core_mqtt` of
 * aws-iot-device-sdk-embedded-C 87ca28ce5, the last commit with the OTA demos, built with cmake against
 * OpenSSL; nothing of it is in this repository). It connected with a certificate from our CA, took the
 * CreateOTAUpdate job from `$next/get/accepted`, downloaded 48 CBOR blocks, logged "sig-sha256-ecdsa
 * signature verification passed", reported `self_test: ready`, and, restarted as the received 0.9.3
 * image, `self_test: active` and SUCCEEDED `{"reason":"accepted  v0.9.3","updatedBy":"  v0.9.2"}`; with
 * one byte of the streamed image changed it reported FAILED `{"reason":"0x000000e3: 0x00000000"}`.
 * Details and log lines: bench/README.md, "FreeRTOS OTA agent (C) against fleetjobs — by hand".
 */

const v = (major: number, minor: number, build: number) => ({ major, minor, build });
const CERT_ON_DEVICE = 'codesign.crt';

describe.each(DIALECTS)('FreeRTOS OTA device on %s', (dialect) => {
  let t: TestServer;
  let iot: IoTClient;
  let signer: SignerClient;
  let fx: StreamFixture;
  let role: string;
  let version: string;
  let profileCertificate: string;
  const image = randomBytes(50_000);
  const devices: OtaDevice[] = [];
  const thingArn = (name: string): string => t.server.services.ctx.arns.thing(name);

  beforeAll(async () => {
    t = await startTestServer({ dialect });
    iot = t.iot();
    signer = new SignerClient({
      endpoint: t.endpoint,
      region: TEST_REGION,
      credentials: t.credentials,
      maxAttempts: 1,
    });
    fx = new StreamFixture(t);
    await fx.bucket('firmware');
    version = await fx.put('firmware', 'fw/app.bin', image);
    role = await fx.role('ota-role', otaRoleTrust(ACCOUNT, TEST_REGION), allowRead('arn:aws:s3:::firmware/*'));
    // A profile without signingMaterial: the server makes its key pair and certificate (fleetjobs).
    await signer.send(
      new PutSigningProfileCommand({
        profileName: 'ota_ecdsa',
        platformId: 'AmazonFreeRTOS-Default',
        signingParameters: { certname: CERT_ON_DEVICE },
      }),
    );
    const profile = await signer.send(new GetSigningProfileCommand({ profileName: 'ota_ecdsa' }));
    profileCertificate = (
      await t.server.services.signing.certificates.getCertificate(profile.signingMaterial!.certificateArn!)
    ).Certificate;
  });
  afterAll(async () => {
    for (const d of devices) await d.stop();
    signer?.destroy();
    fx?.destroy();
    await t?.stop();
  });

  /** A provisioned thing and its OTA device (the POSIX demo's versions: 0.9.2 updating to 1.0.0). */
  const device = async (name: string, over: Partial<OtaDeviceOptions> = {}): Promise<OtaDevice> => {
    const dev = await provisionDevice(t, iot, `${name}-${dialect}`);
    const d = new OtaDevice({
      mqttUrl: t.server.endpoints.mqtt!,
      thingName: dev.thingName,
      cert: dev.cert,
      key: dev.key,
      ca: dev.ca,
      certificates: { [CERT_ON_DEVICE]: profileCertificate },
      version: v(0, 9, 2),
      imageVersion: v(1, 0, 0),
      ...over,
    });
    devices.push(d);
    return d;
  };

  /** CreateOTAUpdate for one thing; resolves once the update is CREATE_COMPLETE. */
  const createUpdate = async (
    id: string,
    thing: string,
    over: Partial<CreateOTAUpdateCommandInput> = {},
  ): Promise<{ jobId: string; streamName?: string }> => {
    await iot.send(
      new CreateOTAUpdateCommand({
        otaUpdateId: id,
        targets: [thingArn(thing)],
        targetSelection: 'SNAPSHOT',
        protocols: ['MQTT'],
        roleArn: role,
        files: [
          {
            fileName: '/ota/app.bin',
            fileLocation: { s3Location: { bucket: 'firmware', key: 'fw/app.bin', version } },
            codeSigning: {
              startSigningJobParameter: {
                signingProfileName: 'ota_ecdsa',
                destination: { s3Destination: { bucket: 'firmware', prefix: 'signed/' } },
              },
            },
          },
        ],
        ...over,
      }),
    );
    await t.server.services.ota.worker.settled(id);
    const info = (await iot.send(new GetOTAUpdateCommand({ otaUpdateId: id }))).otaUpdateInfo!;
    expect(info.otaUpdateStatus, JSON.stringify(info.errorInfo)).toBe('CREATE_COMPLETE');
    const jobId = info.awsIotJobId!;
    const { document } = await iot.send(new GetJobDocumentCommand({ jobId }));
    const doc = JSON.parse(document!) as { afr_ota: { streamname?: string } };
    return { jobId, ...(doc.afr_ota.streamname !== undefined && { streamName: doc.afr_ota.streamname }) };
  };

  const execution = async (jobId: string, thingName: string) =>
    (await iot.send(new DescribeJobExecutionCommand({ jobId, thingName }))).execution!;

  it.each([
    ['cbor', 1, 4096],
    ['json', 8, 1024],
  ] as const)(
    'MQTT %s: downloads in blocks (%i per request, %i bytes), verifies with the profile certificate, reports SUCCEEDED',
    async (format, blocksPerRequest, blockSize) => {
      const d = await device(`ota-${format}`, { format, blocksPerRequest, blockSize });
      // Online first, as a fleet is: the device learns of the job from notify-next.
      const running = d.run();
      await d.idle;
      const { jobId } = await createUpdate(`fw-${format}-${dialect}`, `ota-${format}-${dialect}`);
      expect(jobId).toBe(`AFR_OTA-fw-${format}-${dialect}`);
      const outcome = await running;
      expect(outcome).toMatchObject({
        jobId,
        result: 'SUCCEEDED',
        verified: true,
        reboots: 1,
        blocksReceived: Math.ceil(image.length / blockSize),
      });
      expect(outcome.image!.equals(image)).toBe(true);
      expect(outcome.requests).toBe(Math.ceil(image.length / blockSize / blocksPerRequest));
      expect(await execution(jobId, `ota-${format}-${dialect}`)).toMatchObject({
        status: 'SUCCEEDED',
        statusDetails: { detailsMap: { reason: 'accepted  v1.0.0', updatedBy: '  v0.9.2' } },
      });
    },
  );

  it('reports FAILED when one byte of the delivered image changed after signing', async () => {
    const d = await device('ota-changed');
    const { jobId, streamName } = await createUpdate(`fw-changed-${dialect}`, `ota-changed-${dialect}`);
    // The stream now serves a copy with one byte flipped: same size, the signature of the original.
    const changed = Buffer.from(image);
    changed[20_000] = changed[20_000]! ^ 0x01;
    const changedVersion = await fx.put('firmware', 'fw/app-changed.bin', changed);
    await iot.send(
      new UpdateStreamCommand({
        streamId: streamName!,
        files: [{ fileId: 0, s3Location: { bucket: 'firmware', key: 'fw/app-changed.bin', version: changedVersion } }],
        roleArn: role,
      }),
    );
    const outcome = await d.run();
    expect(outcome).toMatchObject({ result: 'FAILED', verified: false, reboots: 0 });
    expect(outcome.image!.equals(changed)).toBe(true);
    expect(await execution(jobId, `ota-changed-${dialect}`)).toMatchObject({
      status: 'FAILED',
      statusDetails: { detailsMap: { reason: '0x000000e3: 0x00000000' } },
    });
  });

  it('reports FAILED on a signature that does not match (customCodeSigning)', async () => {
    const other = await generateCodeSigningMaterial('ECDSA', 'not the profile', new Date());
    const wrong = createSign('sha256').update(image).sign(other.privateKeyPem).toString('base64');
    const d = await device('ota-badsig');
    const { jobId } = await createUpdate(`fw-badsig-${dialect}`, `ota-badsig-${dialect}`, {
      files: [
        {
          fileName: '/ota/app.bin',
          fileLocation: { s3Location: { bucket: 'firmware', key: 'fw/app.bin', version } },
          codeSigning: {
            customCodeSigning: {
              signature: { inlineDocument: Buffer.from(wrong, 'base64') },
              certificateChain: { certificateName: CERT_ON_DEVICE },
              hashAlgorithm: 'SHA256',
              signatureAlgorithm: 'ECDSA',
            },
          },
        },
      ],
    });
    const outcome = await d.run();
    expect(outcome).toMatchObject({ result: 'FAILED', verified: false });
    expect(outcome.image!.equals(image)).toBe(true);
    expect((await execution(jobId, `ota-badsig-${dialect}`)).status).toBe('FAILED');
  });

  it('HTTP: downloads the presigned update_data_url in ranged blocks and reports SUCCEEDED', async () => {
    const d = await device('ota-http', { protocol: 'HTTP' });
    const running = d.run();
    await d.idle;
    const { jobId, streamName } = await createUpdate(`fw-http-${dialect}`, `ota-http-${dialect}`, {
      protocols: ['HTTP'],
      awsJobPresignedUrlConfig: { expiresInSec: 300 },
    });
    expect(streamName).toBeUndefined();
    const outcome = await running;
    expect(outcome).toMatchObject({
      jobId,
      result: 'SUCCEEDED',
      verified: true,
      requests: Math.ceil(image.length / 4096),
    });
    expect(outcome.image!.equals(image)).toBe(true);
    expect((await execution(jobId, `ota-http-${dialect}`)).status).toBe('SUCCEEDED');
  });
});
