import type { Kysely } from 'kysely';
import type { Config, ListenAddress } from '../config.js';
import { parseClusterUrl } from '../protocols/mqtt/cluster.js';
import {
  databaseCheck,
  listenerCheck,
  migrationsCheck,
  openRedisPing,
  redisCheck,
  type ReadinessCheck,
} from './health.js';

export interface ServerReadiness {
  checks: Record<string, ReadinessCheck>;
  close(): void;
}

/**
 * What /readyz checks on a server: the database answers, this build's migrations are applied, the
 * HTTP, MQTT and device HTTPS listeners accept connections and, scaled out, Redis answers PING.
 * `ports` gives each listener's bound port once it listens (port 0 picks one at start).
 */
export async function serverReadiness(
  config: Config,
  db: Kysely<unknown>,
  ports: () => { http?: number; mqtt?: number; deviceHttps?: number },
): Promise<ServerReadiness> {
  const at = (listen: ListenAddress, port: number | undefined): ListenAddress | undefined =>
    port === undefined ? undefined : { host: listen.host, port };
  const checks: Record<string, ReadinessCheck> = {
    database: databaseCheck(db),
    migrations: migrationsCheck(db),
    http: listenerCheck(() => at(config.http, ports().http)),
    mqtt: listenerCheck(() => at(config.mqtt, ports().mqtt)),
    deviceHttps: listenerCheck(() => at(config.deviceHttps, ports().deviceHttps)),
  };
  if (!config.cluster) return { checks, close: () => {} };
  const redis = await openRedisPing(parseClusterUrl(config.cluster).redisUrl);
  return { checks: { ...checks, redis: redisCheck(redis.ping) }, close: redis.close };
}
