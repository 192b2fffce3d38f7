import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DescribeEndpointCommand } from '@aws-sdk/client-iot';
import { writeFileWithMode } from '../agent/device-dir.js';
import type { Session } from './context.js';
import { UsageError } from './exit-codes.js';

export function writeDeviceFile(cwd: string, dir: string, name: string, content: string, mode = 0o644): string {
  return writeFileWithMode(resolve(cwd, dir), name, content, mode);
}

/**
 * The CA PEM devices must trust: `--ca FILE`, the profile's caCertificate, or the local server's
 * (endpoints.json). The server does not send its CA during the TLS handshake, so a remote CLI
 * needs one of those.
 */
export function caPemOf(s: Session, flag: string | undefined): string {
  const path = flag ?? s.conn.device.caCertificate;
  if (path === undefined) {
    throw new UsageError(
      "the server's CA certificate is unknown: pass --ca FILE (on the server: <data-dir>/ca/ca-cert.pem) " +
        'or set caCertificate in the profile',
    );
  }
  const full = resolve(s.io.cwd, path);
  if (!existsSync(full)) throw new UsageError(`CA certificate ${full} does not exist`);
  return readFileSync(full, 'utf8');
}

/** `host[:port]` from DescribeEndpoint, as a URL with the default port the SDKs assume. */
function endpointUrl(scheme: string, address: string, defaultPort: number): string {
  return /:\d+$/.test(address) ? `${scheme}://${address}` : `${scheme}://${address}:${defaultPort}`;
}

/** The device listeners: from the profile or local data dir, otherwise asked with DescribeEndpoint. */
export async function deviceEndpoints(s: Session): Promise<{ mqtt: string; deviceHttps?: string }> {
  const mqtt =
    s.conn.device.mqtt ??
    endpointUrl(
      'mqtts',
      (await s.iot().send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }))).endpointAddress!,
      8883,
    );
  let deviceHttps = s.conn.device.deviceHttps;
  if (deviceHttps === undefined) {
    try {
      const r = await s.iot().send(new DescribeEndpointCommand({ endpointType: 'iot:Jobs' }));
      deviceHttps = endpointUrl('https', r.endpointAddress!, 443);
    } catch {
      deviceHttps = undefined;
    }
  }
  return { mqtt, ...(deviceHttps && { deviceHttps }) };
}
