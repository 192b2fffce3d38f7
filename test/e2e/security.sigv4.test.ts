import { CreateThingCommand, DescribeThingCommand, IoTClient, ListThingsCommand } from '@aws-sdk/client-iot';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejection } from '../helpers/rejection.js';
import { s3Client } from '../helpers/s3.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signedRequest } from '../helpers/signed.js';

const UNSIGNED = 'UNSIGNED-PAYLOAD';
const STREAMING = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';

// Issue 14 items 4 and 7: what the signature covers, and the region and time it was made for.
describe('SigV4 as AWS checks it', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    await s3Client(t).send(new CreateBucketCommand({ Bucket: 'sig' }));
  });
  afterAll(async () => {
    await t.stop();
  });

  describe('a payload left out of the signature is refused outside S3', () => {
    const alice = JSON.stringify({ attributePayload: { attributes: { owner: 'alice' } } });
    const mallory = JSON.stringify({ attributePayload: { attributes: { owner: 'mallory' } } });

    it.each([UNSIGNED, STREAMING])('iot CreateThing signed with %s and a swapped body', async (hash) => {
      const name = `swap-${hash.length}`;
      const r = await signedRequest(t, {
        service: 'iot',
        method: 'POST',
        path: `/things/${name}`,
        payloadHash: hash,
        signedBody: alice,
        body: mallory,
      });
      expect([r.status, r.errorType]).toEqual([403, 'InvalidSignatureException']);
      expect(r.json().message).toMatch(/accepted by S3 only/);
      const missing = await rejection(t.iot().send(new DescribeThingCommand({ thingName: name })));
      expect(missing.name).toBe('ResourceNotFoundException');
    });

    it('iot-jobs-data and signer refuse UNSIGNED-PAYLOAD too', async () => {
      const data = await signedRequest(t, {
        service: 'iot-jobs-data',
        method: 'GET',
        path: '/things/x/jobs',
        payloadHash: UNSIGNED,
      });
      expect([data.status, data.errorType]).toEqual([403, 'InvalidSignatureException']);
      const signer = await signedRequest(t, {
        service: 'signer',
        method: 'GET',
        path: '/signing-profiles',
        payloadHash: UNSIGNED,
      });
      expect([signer.status, signer.errorType]).toEqual([403, 'InvalidSignatureException']);
    });

    it('iam refuses it with its own XML error', async () => {
      const r = await signedRequest(t, {
        service: 'iam',
        method: 'POST',
        path: '/',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payloadHash: UNSIGNED,
        body: 'Action=ListRoles&Version=2010-05-08',
      });
      expect(r.status).toBe(403);
      expect(r.text).toMatch(/<Code>SignatureDoesNotMatch<\/Code>/);
    });

    it('a signed payload hash still works, and S3 still takes UNSIGNED-PAYLOAD', async () => {
      const good = await signedRequest(t, { service: 'iot', method: 'POST', path: '/things/swap-ok', body: alice });
      expect(good.status).toBe(200);
      const put = await signedRequest(t, {
        service: 's3',
        method: 'PUT',
        path: '/sig/unsigned.bin',
        payloadHash: UNSIGNED,
        body: 'payload',
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(put.status).toBe(200);
    });
  });

  describe('the credential scope names this server region', () => {
    it('iot: a request signed for eu-west-1 is InvalidSignatureException', async () => {
      const other = new IoTClient({
        endpoint: t.endpoint,
        region: 'eu-west-1',
        credentials: t.credentials,
        maxAttempts: 1,
      });
      const e = await rejection(other.send(new ListThingsCommand({})));
      expect([e.name, e.status]).toEqual(['InvalidSignatureException', 403]);
      expect(e.message).toMatch(/region 'eu-west-1' is wrong; expecting 'us-east-1'/);
      other.destroy();
      await expect(t.iot().send(new CreateThingCommand({ thingName: 'region-ok' }))).resolves.toBeDefined();
    });

    it('s3: AuthorizationHeaderMalformed (400) naming the region', async () => {
      const other = new S3Client({
        endpoint: t.endpoint,
        region: 'eu-west-1',
        forcePathStyle: true,
        credentials: t.credentials,
        maxAttempts: 1,
      });
      const e = await rejection(other.send(new ListBucketsCommand({})));
      expect([e.name, e.status]).toEqual(['AuthorizationHeaderMalformed', 400]);
      other.destroy();
    });

    it('iam is global: us-east-1 is accepted whatever the server region', async () => {
      const iam = new IAMClient({
        endpoint: t.endpoint,
        region: 'us-east-1',
        credentials: t.credentials,
        maxAttempts: 1,
      });
      const e = await rejection(iam.send(new GetRoleCommand({ RoleName: 'none' })));
      expect(e.name).toBe('NoSuchEntityException');
      iam.destroy();
    });
  });

  describe('clock skew', () => {
    const skewed = new Date(Date.now() - 20 * 60_000);

    it('s3 answers RequestTimeTooSkewed', async () => {
      const r = await signedRequest(t, { service: 's3', method: 'GET', path: '/', signingDate: skewed });
      expect(r.status).toBe(403);
      expect(r.text).toMatch(/<Code>RequestTimeTooSkewed<\/Code>/);
    });

    it('iot answers InvalidSignatureException (Signature expired)', async () => {
      const r = await signedRequest(t, { service: 'iot', method: 'GET', path: '/things', signingDate: skewed });
      expect([r.status, r.errorType]).toEqual([403, 'InvalidSignatureException']);
      expect(r.json().message).toMatch(/Signature expired/);
    });
  });
});
