import { connect } from 'node:net';
import { sql, type Kysely } from 'kysely';
import type { ListenAddress } from '../config.js';
import { migrations } from '../store/migrations/index.js';

/** One readiness check: resolves when the dependency is usable, rejects saying why not. */
export type ReadinessCheck = () => Promise<void>;

export interface Readiness {
  ready: boolean;
  /** "ok", or the reason the check failed, per check name. */
  checks: Record<string, string>;
}

/** No check may hold /readyz longer than this: a probe that hangs is as bad as a failed one. */
const CHECK_TIMEOUT_MS = 2_000;

function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** `/readyz`: every check run at once; ready only when all pass. */
export async function readiness(checks: Record<string, ReadinessCheck>): Promise<Readiness> {
  const names = Object.keys(checks);
  const results = await Promise.allSettled(names.map((n) => within(CHECK_TIMEOUT_MS, n, checks[n]!())));
  const out: Record<string, string> = {};
  results.forEach((r, i) => {
    out[names[i]!] = r.status === 'fulfilled' ? 'ok' : ((r.reason as Error).message ?? String(r.reason));
  });
  return { ready: results.every((r) => r.status === 'fulfilled'), checks: out };
}

/** The database answers a query. */
export const databaseCheck =
  (db: Kysely<unknown>): ReadinessCheck =>
  async () => {
    await sql`select 1`.execute(db);
  };

/**
 * Every migration this build knows is recorded as applied (Kysely's migration table): a replica
 * whose schema is behind its code must not take traffic.
 */
export const migrationsCheck =
  (db: Kysely<unknown>): ReadinessCheck =>
  async () => {
    const rows = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
    const applied = new Set(rows.rows.map((r) => r.name));
    const missing = Object.keys(migrations).filter((name) => !applied.has(name));
    if (missing.length > 0) throw new Error(`migrations not applied: ${missing.join(', ')}`);
  };

/** A listener accepts TCP connections (0.0.0.0 and :: are reached through loopback). */
export const listenerCheck =
  (at: () => ListenAddress | undefined): ReadinessCheck =>
  () =>
    new Promise<void>((resolve, reject) => {
      const address = at();
      if (!address) return reject(new Error('not started'));
      const host = address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host;
      const socket = connect({ host, port: address.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', (err) => reject(new Error(`cannot connect to ${host}:${address.port}: ${err.message}`)));
    });

/** Redis answers PING (cluster mode); `ping` is the deployment's own client. */
export const redisCheck =
  (ping: () => Promise<unknown>): ReadinessCheck =>
  async () => {
    await ping();
  };

/**
 * A connection of its own to the cluster's Redis, only for /readyz: it fails at once while Redis
 * is unreachable (no offline queue) and reconnects by itself when Redis is back.
 */
export async function openRedisPing(redisUrl: string): Promise<{ ping: () => Promise<unknown>; close: () => void }> {
  const { Redis } = await import('ioredis');
  const conn = new Redis(redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  conn.on('error', () => {}); // reported through /readyz, not as an unhandled 'error' event
  await conn.connect().catch(() => undefined); // not reachable now: /readyz says so
  return { ping: () => conn.ping(), close: () => conn.disconnect() };
}
