import { request as httpsRequest } from 'node:https';
import { CreateThingCommand, DescribeThingCommand, type IoTClient } from '@aws-sdk/client-iot';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionDevice, type Device } from '../helpers/devices.js';
import { rejection } from '../helpers/rejection.js';
import { s3Client } from '../helpers/s3.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { send, signedRequest, type SignedReply } from '../helpers/signed.js';

const MiB = 1024 * 1024;

/** A device's HTTPS call with its certificate; resolves with the reply even if the socket then closes. */
function deviceCall(t: TestServer, device: Device, path: string, body: Buffer): Promise<SignedReply> {
  const url = new URL(path, t.server.endpoints.deviceHttps);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: 'POST',
        cert: device.cert,
        key: device.key,
        ca: device.ca,
        headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const type = res.headers['x-amzn-errortype'];
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            ...(typeof type === 'string' && { errorType: type.split(':')[0] }),
            text,
            json: () => JSON.parse(text) as Record<string, unknown>,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

// Issue 14 items 5 and 6: big bodies get an AWS 413, Fastify never answers in its own shape.
describe('every HTTP answer in the shape its protocol expects', () => {
  let t: TestServer;
  let iot: IoTClient;
  beforeAll(async () => {
    t = await startTestServer();
    iot = t.iot();
    await s3Client(t).send(new CreateBucketCommand({ Bucket: 'shape' }));
  });
  afterAll(async () => {
    await t.stop();
  });

  describe('bodies over 1 MiB', () => {
    it('the SDK gets 413 RequestEntityTooLargeException, not a connection reset', async () => {
      const attributes = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`a${i}`, 'x'.repeat(600_000)]));
      const e = await rejection(
        iot.send(new CreateThingCommand({ thingName: 'big', attributePayload: { attributes } })),
      );
      expect([e.name, e.status]).toEqual(['RequestEntityTooLargeException', 413]);
      expect(e.message).toMatch(/larger than 1048576 bytes/);
      // The server goes on answering.
      await expect(iot.send(new CreateThingCommand({ thingName: 'after-big' }))).resolves.toBeDefined();
    });

    it('a raw signed 2 MiB body: 413 restJson error, connection closed cleanly', async () => {
      const r = await signedRequest(t, {
        service: 'iot',
        method: 'POST',
        path: '/things/raw-big',
        body: Buffer.alloc(2 * MiB, 0x20),
      });
      expect([r.status, r.errorType]).toEqual([413, 'RequestEntityTooLargeException']);
      expect(r.headers.connection).toBe('close');
      expect(r.json().message).toMatch(/larger than/);
    });

    it('a body far over the limit is refused from its Content-Length alone', async () => {
      const r = await signedRequest(t, {
        service: 'iot',
        method: 'POST',
        path: '/things/huge',
        body: Buffer.alloc(20 * MiB, 0x20),
      }).catch((err: NodeJS.ErrnoException) => ({ status: 0, errorType: err.code }) as SignedReply);
      // The reply comes before the client has sent everything; a client may then see EPIPE
      // instead of the reply, but never a server that reads it all into memory.
      if (r.status !== 0) expect([r.status, r.errorType]).toEqual([413, 'RequestEntityTooLargeException']);
      const after = await signedRequest(t, { service: 'iot', method: 'GET', path: '/things' });
      expect(after.status).toBe(200);
    });

    it('the device HTTPS listener answers 413 too', async () => {
      const device = await provisionDevice(t, iot, 'big-device');
      const r = await deviceCall(t, device, '/things/big-device/jobs/$next', Buffer.alloc(2 * MiB, 0x20));
      expect([r.status, r.errorType]).toEqual([413, 'RequestEntityTooLargeException']);
    });
  });

  describe("Fastify's refusals", () => {
    it('malformed percent-encoding in the path is an AWS error, not FST_ERR_BAD_URL', async () => {
      const r = await send(t.endpoint, 'GET', '/things/%zz', {});
      expect(r.text).not.toMatch(/FST_ERR/);
      expect([r.status, r.errorType]).toEqual([403, 'MissingAuthenticationTokenException']);
      const s3 = await send(t.endpoint, 'GET', '/shape/%zz', {
        authorization: `AWS4-HMAC-SHA256 Credential=${t.credentials.accessKeyId}/20300101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00`,
      });
      expect(s3.text).toMatch(/^<\?xml[\s\S]*<Error><Code>/);
    });

    it.each(['', 'a b c', 'application/json; charset=bogus=='])(
      'a Content-Type of %j is not a 415: the signed request is served',
      async (type) => {
        const name = `ct-${type.length}`;
        const r = await signedRequest(t, {
          service: 'iot',
          method: 'POST',
          path: `/things/${name}`,
          body: '{}',
          headers: { 'content-type': type },
        });
        expect(r.text).not.toMatch(/FST_ERR/);
        expect(r.status).toBe(200);
        await expect(iot.send(new DescribeThingCommand({ thingName: name }))).resolves.toBeDefined();
      },
    );

    it('an unsigned request with a bad Content-Type gets the restJson 403', async () => {
      const r = await send(t.endpoint, 'POST', '/things/x', { 'content-type': '' }, Buffer.from('{}'));
      expect([r.status, r.errorType]).toEqual([403, 'MissingAuthenticationTokenException']);
    });

    it('the console API answers a bad Content-Type in its own shape, not 500', async () => {
      const body = Buffer.from('{"username":"admin","password":"x"}');
      for (const type of ['a b c', '']) {
        const r = await send(t.endpoint, 'POST', '/console/api/session', { 'content-type': type }, body);
        expect([r.status, r.json().code]).toEqual([400, 'InvalidRequestException']);
      }
    });

    it('a malformed presigned S3 query gets S3 XML', async () => {
      for (const query of ['X-Amz-Signature=1', 'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=zz']) {
        const r = await send(t.endpoint, 'GET', `/shape/key?${query}`, {});
        expect(r.status).toBe(403);
        expect(r.headers['content-type']).toMatch(/xml/);
        expect(r.text).toMatch(/<Error><Code>[A-Za-z]+<\/Code>/);
      }
    });
  });
});
