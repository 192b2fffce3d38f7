import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AddThingToThingGroupCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  ListThingsInThingGroupCommand,
  RegisterCACertificateCommand,
  RegisterCertificateCommand,
  UpdateCACertificateCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import type { Clock } from '../clock.js';
import { writeFileWithMode } from './device-dir.js';
import { createFleetCa, issueDeviceCertificate, type FleetCa } from './fleet-ca.js';
import { mapLimit, type DeviceCredentials } from './sim-device.js';

/**
 * Provisioning for `fleetjobs simulate`: N things in a group, each with its certificate, made once
 * and kept in a cache directory so the next run of the same fleet starts at once. Certificates:
 *   ca     (default) one CA-signed certificate per device from the fleet's own CA, registered with
 *          RegisterCACertificate; keys are made locally (P-256), so 1,000 devices take seconds;
 *   keys   CreateKeysAndCertificate per device (the server makes an RSA key each: slow);
 *   shared one certificate attached to every thing.
 */
export const CERT_MODES = ['ca', 'keys', 'shared'] as const;
export type CertMode = (typeof CERT_MODES)[number];

export interface FleetOptions {
  iot: IoTClient;
  devices: number;
  prefix: string;
  group: string;
  cacheDir: string;
  concurrency: number;
  certMode: CertMode;
  reprovision?: boolean;
  clock: Clock;
  log: (message: string) => void;
}

export interface Fleet {
  devices: DeviceCredentials[];
  created: number;
  reused: number;
}

type Issued = Required<Pick<DeviceCredentials, 'cert' | 'key' | 'certificateArn'>>;
type Issuer = (thingName: string) => Promise<Issued>;

export const deviceName = (prefix: string, i: number, n: number): string =>
  `${prefix}${String(i + 1).padStart(Math.max(4, String(n).length), '0')}`;

async function groupMembers(iot: IoTClient, group: string): Promise<Set<string>> {
  const names = new Set<string>();
  let nextToken: string | undefined;
  do {
    const r = await iot.send(new ListThingsInThingGroupCommand({ thingGroupName: group, nextToken, maxResults: 250 }));
    for (const t of r.things ?? []) names.add(t);
    nextToken = r.nextToken;
  } while (nextToken);
  return names;
}

function readJson<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export async function provisionFleet(o: FleetOptions): Promise<Fleet> {
  mkdirSync(o.cacheDir, { recursive: true, mode: 0o700 });
  await o.iot.send(
    new CreateThingGroupCommand({
      thingGroupName: o.group,
      thingGroupProperties: { thingGroupDescription: 'devices of fleetjobs simulate' },
    }),
  );
  // A cached device is trusted only if the server still has it in the group (a reset server
  // would refuse its certificate).
  const members = o.reprovision ? new Set<string>() : await groupMembers(o.iot, o.group);
  const issue = await issuer(o);
  const names = Array.from({ length: o.devices }, (_, i) => deviceName(o.prefix, i, o.devices));
  let created = 0;
  let done = 0;
  const devices = await mapLimit(names, o.concurrency, async (thingName) => {
    const cached = readJson<DeviceCredentials>(join(o.cacheDir, `${thingName}.json`));
    let creds: DeviceCredentials;
    if (cached?.cert && cached.key && members.has(thingName)) creds = cached;
    else {
      creds = await provisionOne(o, thingName, issue);
      created++;
    }
    if (++done % 250 === 0 || done === names.length) o.log(`devices ready: ${done}/${names.length}`);
    return creds;
  });
  return { devices, created, reused: devices.length - created };
}

/** The thing (kept if it exists), its certificate attached, its group membership; cached. */
export async function provisionOne(o: FleetOptions, thingName: string, issue: Issuer): Promise<DeviceCredentials> {
  try {
    await o.iot.send(new CreateThingCommand({ thingName }));
  } catch (err) {
    if ((err as Error).name !== 'ResourceAlreadyExistsException') throw err;
  }
  const c = await issue(thingName);
  await o.iot.send(new AttachThingPrincipalCommand({ thingName, principal: c.certificateArn }));
  await o.iot.send(new AddThingToThingGroupCommand({ thingGroupName: o.group, thingName }));
  const creds = { thingName, ...c };
  writeFileWithMode(o.cacheDir, `${thingName}.json`, JSON.stringify(creds), 0o600);
  return creds;
}

export async function issuer(o: FleetOptions): Promise<Issuer> {
  if (o.certMode === 'keys') return () => createKeys(o.iot);
  if (o.certMode === 'shared') {
    const path = join(o.cacheDir, 'shared-certificate.json');
    let shared = o.reprovision ? undefined : readJson<Issued>(path);
    if (!shared?.certificateArn) {
      shared = await createKeys(o.iot);
      writeFileWithMode(o.cacheDir, 'shared-certificate.json', JSON.stringify(shared), 0o600);
    }
    const fixed = shared;
    return () => Promise.resolve(fixed);
  }
  const ca = await fleetCa(o);
  return async (thingName) => {
    const issued = await issueDeviceCertificate(ca, thingName, o.clock.now().getTime());
    const r = await o.iot.send(
      new RegisterCertificateCommand({
        certificatePem: issued.cert,
        caCertificatePem: ca.certificatePem,
        status: 'ACTIVE',
      }),
    );
    return { ...issued, certificateArn: r.certificateArn! };
  };
}

async function createKeys(iot: IoTClient): Promise<Issued> {
  const k = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
  return { cert: k.certificatePem!, key: k.keyPair!.PrivateKey!, certificateArn: k.certificateArn! };
}

/** The fleet CA, made once per cache directory and registered (ACTIVE) with the server. */
async function fleetCa(o: FleetOptions): Promise<FleetCa> {
  const path = join(o.cacheDir, 'fleet-ca.json');
  let ca = readJson<FleetCa>(path);
  if (!ca?.keyPem) {
    ca = await createFleetCa(`${o.group} fleet CA`, o.clock.now().getTime());
    writeFileWithMode(o.cacheDir, 'fleet-ca.json', JSON.stringify(ca), 0o600);
  }
  try {
    await o.iot.send(new RegisterCACertificateCommand({ caCertificate: ca.certificatePem, setAsActive: true }));
  } catch (err) {
    const e = err as Error & { resourceId?: string };
    if (e.name !== 'ResourceAlreadyExistsException' || !e.resourceId) throw err;
    await o.iot.send(new UpdateCACertificateCommand({ certificateId: e.resourceId, newStatus: 'ACTIVE' }));
  }
  return ca;
}
