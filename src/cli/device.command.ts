import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEVICE_FILES, type DeviceEndpointsFile } from '../agent/device-dir.js';
import { provisionDevice } from '../agent/provisioning.js';
import { keyValues } from './args.js';
import { apiCommand, type ApiOptions, type CliContext } from './context.js';
import { caPemOf, deviceEndpoints, writeDeviceFile } from './device-files.js';
import { UsageError } from './exit-codes.js';

interface ProvisionFlags extends ApiOptions {
  out: string;
  group?: string[];
  attributes?: Record<string, string>;
  ca?: string;
  force?: boolean;
}

/** `fleetjobs device provision NAME --out DIR`: everything a device needs to connect. */
export function registerDeviceCommands(program: Command, ctx: CliContext): void {
  const device = program.command('device').description('set up devices');

  apiCommand<ProvisionFlags>(
    ctx,
    device,
    'provision <thingName>',
    'create the thing, an ACTIVE certificate attached to it, and a device directory (cert, key, CA, endpoints)',
    (c) =>
      c
        .requiredOption('--out <dir>', 'device directory to write')
        .option('--group <name>', 'also put the thing into this group (repeatable)', (v: string, p: string[] = []) => [
          ...p,
          v,
        ])
        .option('--attributes <k=v,...>', 'attributes of a new thing', keyValues('--attributes'))
        .option('--ca <file>', "the server's CA certificate (default: from the profile or local data dir)")
        .option('--force', 'overwrite an existing device directory'),
    async (s, [thingName], o) => {
      const out = resolve(s.io.cwd, o.out);
      if (!o.force && existsSync(join(out, DEVICE_FILES.key))) {
        throw new UsageError(`${out} already holds a device key; pass --force to replace it`);
      }
      // Everything that can fail locally is checked before anything is created on the server.
      const ca = caPemOf(s, o.ca);
      const endpoints = await deviceEndpoints(s);
      const d = await provisionDevice(s.iot(), thingName!, { attributes: o.attributes, groups: o.group });
      const file: DeviceEndpointsFile = {
        thingName: d.thingName,
        mqtt: endpoints.mqtt,
        ...(endpoints.deviceHttps && { deviceHttps: endpoints.deviceHttps }),
        region: s.conn.region,
        certificateId: d.certificateId,
        certificateArn: d.certificateArn,
      };
      writeDeviceFile(s.io.cwd, out, DEVICE_FILES.key, d.key, 0o600);
      writeDeviceFile(s.io.cwd, out, DEVICE_FILES.cert, d.cert);
      writeDeviceFile(s.io.cwd, out, DEVICE_FILES.ca, ca);
      writeDeviceFile(s.io.cwd, out, DEVICE_FILES.endpoints, `${JSON.stringify(file, null, 2)}\n`);
      s.out.object({ ...file, thingArn: d.thingArn, directory: out });
      if (!s.out.json) s.out.note(`start the agent with: fleetjobs agent --device-dir ${o.out}`);
    },
  );
}
