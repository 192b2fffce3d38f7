import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { UsageError } from './exit-codes.js';

/**
 * Where the CLI finds its server and credentials (README "The fleetjobs CLI"):
 * flags > environment > named profile (~/.fleetjobs/config.json) > the local server's data dir
 * (./fleetjobs-data/endpoints.json and admin-credentials.json, or --data-dir).
 * An explicit --profile (or FLEETJOBS_PROFILE) beats the environment, as the aws CLI does.
 */
export interface ConnectionFlags {
  endpointUrl?: string;
  region?: string;
  profile?: string;
  dataDir?: string;
}

/** One named profile; every member is optional. */
export interface Profile {
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** mqtts://host:port of the device MQTT listener. */
  mqtt?: string;
  /** https://host:port of the device HTTPS listener. */
  deviceHttps?: string;
  /** Path of the PEM of the CA that signs the server's and the devices' certificates. */
  caCertificate?: string;
}

export const PROFILE_KEYS = [
  'endpoint',
  'region',
  'accessKeyId',
  'secretAccessKey',
  'sessionToken',
  'mqtt',
  'deviceHttps',
  'caCertificate',
] as const satisfies readonly (keyof Profile)[];

export interface ProfilesFile {
  profiles: Record<string, Profile>;
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface Connection {
  endpoint: string;
  region: string;
  credentials: Credentials;
  /** The device-facing listeners, when known without asking the server. */
  device: { mqtt?: string; deviceHttps?: string; caCertificate?: string };
  /** Where each setting came from (flag, env, profile NAME, data dir PATH): shown by `fleetjobs config show`. */
  sources: Record<string, string>;
}

export interface Environment {
  env: NodeJS.ProcessEnv;
  cwd: string;
  home: string;
}

export const DEFAULT_REGION = 'us-east-1';

export function profilesPath(e: Environment): string {
  return e.env.FLEETJOBS_CLI_CONFIG ?? join(e.home, '.fleetjobs', 'config.json');
}

export function readProfiles(path: string): ProfilesFile {
  if (!existsSync(path)) return { profiles: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  const profiles = (parsed as { profiles?: unknown } | null)?.profiles;
  if (typeof profiles !== 'object' || profiles === null || Array.isArray(profiles)) {
    throw new UsageError(`${path} must hold {"profiles": {"<name>": {...}}}`);
  }
  for (const [name, p] of Object.entries(profiles)) {
    if (typeof p !== 'object' || p === null) throw new UsageError(`${path}: profile '${name}' must be an object`);
    for (const [k, v] of Object.entries(p)) {
      if (!(PROFILE_KEYS as readonly string[]).includes(k)) {
        throw new UsageError(`${path}: profile '${name}' has unknown key '${k}' (known: ${PROFILE_KEYS.join(', ')})`);
      }
      if (typeof v !== 'string') throw new UsageError(`${path}: profile '${name}' key '${k}' must be a string`);
    }
  }
  return { profiles: profiles as Record<string, Profile> };
}

interface LocalServer {
  dir: string;
  endpoints: { http?: string; mqtt?: string; deviceHttps?: string; caCertificate?: string };
  credentials?: Credentials;
}

/** The server started in (or for) this directory: what `fleetjobs serve` wrote into its data dir. */
export function readLocalServer(dir: string): LocalServer | undefined {
  const endpointsPath = join(dir, 'endpoints.json');
  if (!existsSync(endpointsPath)) return undefined;
  const parse = (path: string): Record<string, unknown> => {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
    }
  };
  const e = parse(endpointsPath);
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const credsPath = join(dir, 'admin-credentials.json');
  let credentials: Credentials | undefined;
  if (existsSync(credsPath)) {
    const c = parse(credsPath);
    const id = str(c.accessKeyId);
    const secret = str(c.secretAccessKey);
    if (id && secret) credentials = { accessKeyId: id, secretAccessKey: secret };
  }
  return {
    dir,
    endpoints: {
      http: str(e.http),
      mqtt: str(e.mqtt),
      deviceHttps: str(e.deviceHttps),
      caCertificate: str(e.caCertificate),
    },
    credentials,
  };
}

type Source<T> = [T | undefined, string];

/** An explicitly chosen profile beats the environment; the default profile does not. */
function ordered<T>(explicit: string | undefined, profile: Source<T>, env: Source<T>): Source<T>[] {
  return explicit ? [profile, env] : [env, profile];
}

function first<T>(...candidates: Source<T>[]): [T, string] | undefined {
  for (const [value, source] of candidates) if (value !== undefined && value !== '') return [value, source];
  return undefined;
}

export function resolveConnection(flags: ConnectionFlags, e: Environment): Connection {
  const path = profilesPath(e);
  const explicit = flags.profile ?? e.env.FLEETJOBS_PROFILE;
  const profileName = explicit ?? 'default';
  const profiles = readProfiles(path).profiles;
  const profile = profiles[profileName];
  if (explicit !== undefined && profile === undefined) {
    const known = Object.keys(profiles);
    throw new UsageError(
      `profile '${explicit}' is not in ${path}` + (known.length ? ` (profiles: ${known.join(', ')})` : ''),
    );
  }
  const p: Profile = profile ?? {};
  const pSrc = `profile ${profileName}`;
  const rawDir = flags.dataDir ?? e.env.FLEETJOBS_DATA_DIR ?? 'fleetjobs-data';
  const dataDir = isAbsolute(rawDir) ? rawDir : resolve(e.cwd, rawDir);
  const local = readLocalServer(dataDir);
  const lSrc = `data dir ${dataDir}`;
  if (flags.dataDir !== undefined && local === undefined) {
    throw new UsageError(`no server data in ${dataDir} (endpoints.json is missing; has the server started there?)`);
  }

  const envEndpoint: Source<string> = [e.env.FLEETJOBS_ENDPOINT ?? e.env.AWS_ENDPOINT_URL, 'env'];
  const profileEndpoint: Source<string> = [p.endpoint, pSrc];
  const endpoint = first<string>(
    [flags.endpointUrl, 'flag --endpoint-url'],
    ...ordered(explicit, profileEndpoint, envEndpoint),
    [local?.endpoints.http, lSrc],
  );
  if (!endpoint) {
    throw new UsageError(
      'no server configured: pass --endpoint-url, set FLEETJOBS_ENDPOINT, add a profile with ' +
        '`fleetjobs config set-profile`, or run where ./fleetjobs-data is (or pass --data-dir)',
    );
  }
  checkUrl(endpoint[0], endpoint[1], ['http:', 'https:']);

  const envCreds: Source<Credentials> = [envCredentials(e.env), 'env'];
  const profileCreds: Source<Credentials> = [
    p.accessKeyId && p.secretAccessKey
      ? { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey, sessionToken: p.sessionToken }
      : undefined,
    pSrc,
  ];
  const serverEnvCreds: Source<Credentials> = [
    e.env.FLEETJOBS_ACCESS_KEY_ID && e.env.FLEETJOBS_SECRET_ACCESS_KEY
      ? { accessKeyId: e.env.FLEETJOBS_ACCESS_KEY_ID, secretAccessKey: e.env.FLEETJOBS_SECRET_ACCESS_KEY }
      : undefined,
    'env FLEETJOBS_ACCESS_KEY_ID',
  ];
  const credentials = first<Credentials>(...ordered(explicit, profileCreds, envCreds), serverEnvCreds, [
    local?.credentials,
    lSrc,
  ]);
  if (!credentials) {
    throw new UsageError(
      'no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add them to a profile ' +
        `(${path}), or run where the server's data dir is`,
    );
  }

  const envRegion = e.env.AWS_REGION ?? e.env.AWS_DEFAULT_REGION;
  const region = first<string>(
    [flags.region, 'flag --region'],
    ...ordered(explicit, [p.region, pSrc], [envRegion, 'env']),
  );

  const device = {
    mqtt: p.mqtt ?? local?.endpoints.mqtt,
    deviceHttps: p.deviceHttps ?? local?.endpoints.deviceHttps,
    caCertificate: p.caCertificate ?? local?.endpoints.caCertificate,
  };
  return {
    endpoint: endpoint[0].replace(/\/+$/, ''),
    region: region?.[0] ?? DEFAULT_REGION,
    credentials: credentials[0],
    device,
    sources: { endpoint: endpoint[1], credentials: credentials[1], region: region?.[1] ?? 'default' },
  };
}

function envCredentials(env: NodeJS.ProcessEnv): Credentials | undefined {
  const id = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  if (!id || !secret) return undefined;
  return {
    accessKeyId: id,
    secretAccessKey: secret,
    ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }),
  };
}

export function checkUrl(value: string, source: string, protocols: string[]): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${source}: '${value}' is not a URL`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new UsageError(`${source}: '${value}' must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return url;
}
