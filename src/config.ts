import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { DEVICE_STREAM_ACCESS, type DeviceStreamAccess } from './streams/streams.schemas.js';

/**
 * The configuration contract (DESIGN.md): flag > FLEETJOBS_<NAME> env > config file > default.
 * OPTIONS is the one table; the CLI flags, the env names and the README table come from it.
 */
export const OPTIONS = [
  {
    key: 'dataDir',
    flag: 'data-dir',
    def: './fleetjobs-data',
    help: 'SQLite file, objects, CA, generated credentials',
  },
  {
    key: 'http',
    flag: 'http',
    def: '127.0.0.1:8080',
    help: 'AWS-compatible APIs and the console (host:port; port 0 = any free port)',
  },
  { key: 'mqtt', flag: 'mqtt', def: '127.0.0.1:8883', help: 'MQTT over TLS with client certificates (host:port)' },
  {
    key: 'deviceHttps',
    flag: 'device-https',
    def: '127.0.0.1:8443',
    help: 'device HTTPS: jobs data plane with client certificates, presigned downloads',
  },
  {
    key: 'metrics',
    flag: 'metrics',
    def: '',
    help: 'a listener of its own for /metrics (host:port); default: /metrics on the --http listener',
  },
  {
    key: 'database',
    flag: 'database',
    def: '',
    help: 'postgres://... for PostgreSQL; default: SQLite in the data dir',
  },
  { key: 'region', flag: 'region', def: 'us-east-1', help: 'region used in ARNs and signatures' },
  { key: 'account', flag: 'account', def: '000000000000', help: 'account id used in ARNs' },
  {
    key: 'publicHost',
    flag: 'public-host',
    def: '',
    help: 'host name put in presigned URLs and endpoint discovery (default: the host of each listener)',
  },
  {
    key: 'objects',
    flag: 'objects',
    def: '',
    help: 's3://bucket-prefix?endpoint=... for an S3 backend; default: the data dir',
  },
  {
    key: 'cluster',
    flag: 'cluster',
    def: '',
    help: "redis://host:port[/db][?prefix=name] joins the replicas' MQTT brokers (scaled out)",
  },
  {
    key: 'deviceTopics',
    flag: 'device-topics',
    def: '',
    help: "MQTT topic filters devices may also use, comma-separated; {thing} is the device's thing name",
  },
  {
    key: 'deviceStreams',
    flag: 'device-streams',
    def: 'jobs',
    help: 'which streams a device may fetch over MQTT: jobs (those its pending jobs name) or any',
  },
  { key: 'logLevel', flag: 'log-level', def: 'info', help: 'fatal, error, warn, info, debug or trace' },
] as const;

export type OptionKey = (typeof OPTIONS)[number]['key'];
export type RawConfig = Partial<Record<OptionKey, string>>;

export const envName = (flag: string): string => `FLEETJOBS_${flag.toUpperCase().replace(/-/g, '_')}`;

export interface ListenAddress {
  host: string;
  port: number;
}

export interface Config {
  dataDir: string;
  http: ListenAddress;
  mqtt: ListenAddress;
  deviceHttps: ListenAddress;
  /** Prometheus /metrics on a listener of its own instead of the HTTP listener. */
  metrics?: ListenAddress;
  /** postgres URL or SQLite file path. */
  database: string;
  region: string;
  account: string;
  publicHost?: string;
  objects?: string;
  cluster?: string;
  /** Extra MQTT topic filters devices may publish and subscribe to ({thing} = own thing name). */
  deviceTopics?: string;
  /** Streams a device may read over MQTT: those its pending jobs name (`jobs`), or `any`. */
  deviceStreams: DeviceStreamAccess;
  logLevel: string;
  adminAccessKeyId?: string;
  adminSecretAccessKey?: string;
  /** FLEETJOBS_CONSOLE_PASSWORD: the console admin's password (env only, never a flag). */
  consolePassword?: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function parseListen(name: string, value: string, problems: string[]): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value) ?? /^()()(\d+)$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(`--${name} '${value}' is not host:port with a port from 0 to 65535`);
    return { host: '127.0.0.1', port: 0 };
  }
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

/** Reads the config file named by --config or FLEETJOBS_CONFIG: JSON with the option keys. */
export function readConfigFile(path: string): RawConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read config file ${path}: ${(err as Error).message}`]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`config file ${path} is not valid JSON: ${(err as Error).message}`]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError([`config file ${path} must hold a JSON object`]);
  }
  const known = new Set<string>(OPTIONS.flatMap((o) => [o.key, o.flag]));
  const out: RawConfig = {};
  const problems: string[] = [];
  for (const [k, v] of Object.entries(parsed)) {
    if (!known.has(k)) {
      problems.push(`config file ${path}: unknown key '${k}'`);
      continue;
    }
    const option = OPTIONS.find((o) => o.key === k || o.flag === k)!;
    out[option.key] = String(v);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

export interface ConfigSources {
  flags: RawConfig & { config?: string };
  env: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Resolves and validates; throws ConfigError naming every problem at once. */
export function resolveConfig({ flags, env, cwd = process.cwd() }: ConfigSources): Config {
  const configPath = flags.config ?? env.FLEETJOBS_CONFIG;
  const file = configPath ? readConfigFile(resolve(cwd, configPath)) : {};
  const pick = (o: (typeof OPTIONS)[number]): string => flags[o.key] ?? env[envName(o.flag)] ?? file[o.key] ?? o.def;
  const raw = Object.fromEntries(OPTIONS.map((o) => [o.key, pick(o)])) as Record<OptionKey, string>;
  const problems: string[] = [];
  const dataDir = isAbsolute(raw.dataDir) ? raw.dataDir : resolve(cwd, raw.dataDir);
  checkWritableDir(dataDir, problems);
  const database = raw.database === '' ? join(dataDir, 'fleetjobs.sqlite') : checkDatabase(raw.database, cwd, problems);
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(raw.region))
    problems.push(`--region '${raw.region}' is not a region name like us-east-1`);
  if (!/^\d{12}$/.test(raw.account)) problems.push(`--account '${raw.account}' must be 12 digits`);
  if (!LOG_LEVELS.includes(raw.logLevel))
    problems.push(`--log-level '${raw.logLevel}' must be one of ${LOG_LEVELS.join(', ')}`);
  if (raw.cluster !== '' && !/^rediss?:\/\//.test(raw.cluster))
    problems.push(`--cluster '${raw.cluster}' must be a redis:// URL`);
  if (!(DEVICE_STREAM_ACCESS as readonly string[]).includes(raw.deviceStreams))
    problems.push(`--device-streams '${raw.deviceStreams}' must be one of ${DEVICE_STREAM_ACCESS.join(', ')}`);
  if (raw.objects !== '' && !/^s3:\/\//.test(raw.objects))
    problems.push(`--objects '${raw.objects}' must be an s3:// URL`);
  const config: Config = {
    dataDir,
    http: parseListen('http', raw.http, problems),
    mqtt: parseListen('mqtt', raw.mqtt, problems),
    deviceHttps: parseListen('device-https', raw.deviceHttps, problems),
    ...(raw.metrics !== '' && { metrics: parseListen('metrics', raw.metrics, problems) }),
    database,
    region: raw.region,
    account: raw.account,
    ...(raw.publicHost !== '' && { publicHost: raw.publicHost }),
    ...(raw.objects !== '' && { objects: raw.objects }),
    ...(raw.cluster !== '' && { cluster: raw.cluster }),
    ...(raw.deviceTopics !== '' && { deviceTopics: raw.deviceTopics }),
    deviceStreams: raw.deviceStreams as DeviceStreamAccess,
    logLevel: raw.logLevel,
    ...(env.FLEETJOBS_ACCESS_KEY_ID && { adminAccessKeyId: env.FLEETJOBS_ACCESS_KEY_ID }),
    ...(env.FLEETJOBS_SECRET_ACCESS_KEY && { adminSecretAccessKey: env.FLEETJOBS_SECRET_ACCESS_KEY }),
    ...(env.FLEETJOBS_CONSOLE_PASSWORD && { consolePassword: env.FLEETJOBS_CONSOLE_PASSWORD }),
  };
  if ((config.adminAccessKeyId === undefined) !== (config.adminSecretAccessKey === undefined)) {
    problems.push('FLEETJOBS_ACCESS_KEY_ID and FLEETJOBS_SECRET_ACCESS_KEY must be set together');
  }
  if (config.consolePassword !== undefined && config.consolePassword.length < 8) {
    problems.push('FLEETJOBS_CONSOLE_PASSWORD must have at least 8 characters');
  }
  if (config.cluster !== undefined) checkCluster(config, env, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * Scaled out (README "Scaled-out deployment"): replicas have data dirs of their own, so whatever
 * they must agree on comes from the shared engines or from the environment given to every one.
 */
function checkCluster(config: Config, env: NodeJS.ProcessEnv, problems: string[]): void {
  let prefix: string | null = null;
  try {
    prefix = new URL(config.cluster!).searchParams.get('prefix');
  } catch {
    problems.push(`--cluster '${config.cluster}' is not a valid redis:// URL`);
  }
  if (prefix !== null && !/^[A-Za-z0-9_.-]+$/.test(prefix))
    problems.push(`--cluster prefix '${prefix}' may use A-Z a-z 0-9 _ . - only`);
  if (!/^postgres(ql)?:\/\//.test(config.database))
    problems.push('--cluster needs --database postgres://... (the replicas share one database)');
  if (config.objects === undefined)
    problems.push('--cluster needs --objects s3://... (the replicas share one object store)');
  if (config.adminAccessKeyId === undefined)
    problems.push(
      '--cluster needs FLEETJOBS_ACCESS_KEY_ID and FLEETJOBS_SECRET_ACCESS_KEY (the same on every replica)',
    );
  if (!env.FLEETJOBS_SIGNING_KEY)
    problems.push(
      '--cluster needs FLEETJOBS_SIGNING_KEY (the same on every replica; it seals the CA and signing keys)',
    );
}

function checkWritableDir(dir: string, problems: string[]): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    problems.push(`--data-dir '${dir}' is not a writable directory: ${(err as Error).message}`);
  }
}

function checkDatabase(value: string, cwd: string, problems: string[]): string {
  if (/^postgres(ql)?:\/\//.test(value)) {
    try {
      const url = new URL(value);
      if (url.hostname === '' && !url.searchParams.has('host')) throw new Error('no host');
    } catch {
      problems.push(`--database '${value}' is not a valid postgres:// URL`);
    }
    return value;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    problems.push(`--database '${value}': only postgres:// URLs or an SQLite file path are supported`);
    return value;
  }
  const path = value.startsWith('sqlite:') ? value.slice('sqlite:'.length) : value;
  return isAbsolute(path) ? path : resolve(cwd, path);
}
