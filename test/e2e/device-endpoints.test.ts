import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { DescribeEndpointCommand, IoTClient } from '@aws-sdk/client-iot';
import { portOf } from '../helpers/devices.js';
import { startTestServer, TEST_REGION } from '../helpers/server.js';

/** The certificate a listener presents (verified against our CA for `servername`). */
function serverCertificate(port: number, ca: string, servername: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername }, () => {
      const cert = new X509Certificate(socket.getPeerX509Certificate()!.raw);
      socket.end();
      resolve(cert);
    });
    socket.on('error', reject);
  });
}

describe('device endpoints', () => {
  it('names mqtt, deviceHttps and the CA in endpoints.json; the listeners carry --public-host; stop closes them', async () => {
    const t = await startTestServer({ flags: { publicHost: 'devices.example.test' } });
    let stopped = false;
    try {
      const e = t.server.endpoints;
      expect(e.mqtt).toMatch(/^mqtts:\/\/devices\.example\.test:\d+$/);
      expect(e.deviceHttps).toMatch(/^https:\/\/devices\.example\.test:\d+$/);
      expect(e.caCertificate).toBe(join(t.dataDir, 'ca', 'ca-cert.pem'));
      expect(JSON.parse(readFileSync(join(t.dataDir, 'endpoints.json'), 'utf8'))).toEqual(e);

      const ca = readFileSync(e.caCertificate!, 'utf8');
      for (const port of [portOf(e.mqtt!), portOf(e.deviceHttps!)]) {
        const cert = await serverCertificate(port, ca, 'devices.example.test');
        expect(cert.subjectAltName).toContain('DNS:devices.example.test');
        expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
        expect(cert.subjectAltName).toContain('DNS:localhost');
      }
      // The HTTP endpoint names the public host too; reach it by address here.
      const iot = new IoTClient({
        endpoint: `http://127.0.0.1:${new URL(e.http).port}`,
        region: TEST_REGION,
        credentials: t.credentials,
      });
      const data = await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
      expect(data.endpointAddress).toBe(`devices.example.test:${portOf(e.mqtt!)}`);
      iot.destroy();

      await t.stop();
      stopped = true;
      for (const port of [portOf(e.mqtt!), portOf(e.deviceHttps!)]) {
        await expect(serverCertificate(port, ca, 'localhost')).rejects.toThrow(/ECONNREFUSED/);
      }
    } finally {
      if (!stopped) await t.stop();
    }
  });

  it('keeps the CA across restarts of the same data dir', async () => {
    const first = await startTestServer();
    const pem = readFileSync(first.server.endpoints.caCertificate!, 'utf8');
    await first.server.stop();
    const again = await startTestServer({ flags: { dataDir: first.dataDir } });
    try {
      expect(readFileSync(again.server.endpoints.caCertificate!, 'utf8')).toBe(pem);
    } finally {
      await again.stop();
    }
  });
});
