import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A device directory, as `fleetjobs device provision NAME --out DIR` writes it and
 * `fleetjobs agent --device-dir DIR` reads it:
 *   cert.pem, key.pem (0600), ca.pem, endpoints.json.
 */
export const DEVICE_FILES = { cert: 'cert.pem', key: 'key.pem', ca: 'ca.pem', endpoints: 'endpoints.json' } as const;

export interface DeviceEndpointsFile {
  thingName: string;
  /** mqtts://host:port */
  mqtt: string;
  /** https://host:port of the device HTTPS listener (jobs data plane, presigned downloads). */
  deviceHttps?: string;
  region?: string;
  certificateId?: string;
  certificateArn?: string;
}

export interface DeviceDir {
  dir: string;
  endpoints: DeviceEndpointsFile;
  cert: string;
  key: string;
  ca: string;
}

/** Writes one file, creating the directory; secrets get their mode even under a lax umask. */
export function writeFileWithMode(dir: string, name: string, content: string, mode = 0o644): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
  return path;
}

export function readDeviceDir(dir: string): DeviceDir {
  const read = (name: string): string => {
    const path = join(dir, name);
    if (!existsSync(path)) throw new Error(`${path} is missing (is ${dir} a device directory?)`);
    return readFileSync(path, 'utf8');
  };
  const endpoints = JSON.parse(read(DEVICE_FILES.endpoints)) as DeviceEndpointsFile;
  if (typeof endpoints.thingName !== 'string' || typeof endpoints.mqtt !== 'string') {
    throw new Error(`${join(dir, DEVICE_FILES.endpoints)} must name thingName and mqtt`);
  }
  return { dir, endpoints, cert: read(DEVICE_FILES.cert), key: read(DEVICE_FILES.key), ca: read(DEVICE_FILES.ca) };
}
