import { createRequire } from 'node:module';
import type { AedesOptions } from 'aedes';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { settlesWithin } from './settle.js';
import { parseJobsTopic } from './jobs-topics.js';

// Both are CommonJS without ESM entry points (mqemitter-redis's prefixed class is a property).
const require = createRequire(import.meta.url);
const { MQEmitterRedisPrefix } = require('mqemitter-redis') as {
  MQEmitterRedisPrefix: new (prefix: string, opts: { subConn: Redis; pubConn: Redis }) => RedisEmitter;
};
const redisPersistence = require('aedes-persistence-redis') as (opts: { conn: Redis }) => RedisPersistence;

interface EmitterPacket {
  topic: string;
  clientId?: string;
}

interface RedisEmitter {
  emit(packet: EmitterPacket, done?: (err?: Error) => void): void;
  close(done: () => void): void;
  state: { on(event: 'error', listener: (err: Error) => void): void };
}

interface RedisPersistence {
  /** Without a callback: the promise of the underlying async persistence. */
  destroy(): Promise<void>;
}

/** What the broker hands to Aedes: the Redis-joined emitter and persistence. */
export type AedesCluster = Required<Pick<AedesOptions, 'mq' | 'persistence'>>;

export interface BrokerCluster {
  aedes: AedesCluster;
  /** Key and channel prefix in Redis (several deployments, or tests, may share one Redis). */
  prefix: string;
  /** After the broker has stopped. */
  close(): Promise<void>;
}

export interface ClusterUrl {
  /** The redis:// URL without fleetjobs' own parameters. */
  redisUrl: string;
  prefix: string;
}

/** `--cluster redis://[:password@]host:port[/db][?prefix=name]`; the prefix defaults to `fleetjobs`. */
export function parseClusterUrl(url: string): ClusterUrl {
  const u = new URL(url);
  const prefix = u.searchParams.get('prefix') ?? 'fleetjobs';
  u.searchParams.delete('prefix');
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new Error(`--cluster prefix '${prefix}' may use A-Z a-z 0-9 _ . - only`);
  return { redisUrl: u.toString(), prefix };
}

/**
 * A device's jobs requests are consumed by the replica it is connected to, which answers on that
 * connection alone (broker.ts: authorizePublish, sendTo); no subscriber anywhere may receive them
 * (broker.ts: forward). So they never enter Redis: no replica has a use for them, and a flood of
 * device requests does not become a flood of Redis messages fanned out to every replica.
 */
export function consumedLocally(packet: EmitterPacket): boolean {
  if (packet.clientId === undefined) return false;
  const kind = parseJobsTopic(packet.topic).kind;
  return kind === 'request' || kind === 'unknown';
}

/**
 * Joins this replica's broker to the others through Redis (DESIGN.md, "Deployment shapes"):
 * mqemitter-redis carries publishes between the brokers, so a notify-next published by the
 * notifier of replica B reaches a device connected to replica A; aedes-persistence-redis keeps
 * persistent sessions (clean=false subscriptions, QoS 1 messages queued for offline devices) and
 * retained messages, so a device that reconnects to another replica finds them there. Aedes'
 * own $SYS messages make a client id connected to two replicas keep only the newer connection.
 */
export async function openBrokerCluster(url: string, logger: Logger): Promise<BrokerCluster> {
  const { redisUrl, prefix } = parseClusterUrl(url);
  const connections: Redis[] = [];
  const connect = (keyPrefix?: string): Redis => {
    const conn = new Redis(redisUrl, { ...(keyPrefix && { keyPrefix }), maxRetriesPerRequest: 3 });
    let reported = false;
    conn.on('error', (err: Error) => {
      // ioredis reconnects by itself; one line per outage is enough.
      if (!reported) logger.warn({ err: err.message }, 'Redis connection of the MQTT cluster failed; reconnecting');
      reported = true;
    });
    conn.on('ready', () => (reported = false));
    handleEveryCommand(conn, logger);
    connections.push(conn);
    return conn;
  };
  // Channels are global to a Redis server (not per db number), hence the channel prefix too.
  const mq = new MQEmitterRedisPrefix(`${prefix}/`, { subConn: connect(), pubConn: connect() });
  mq.state.on('error', (err) => logger.debug({ err: err.message }, 'MQTT cluster emitter error'));
  const emit = mq.emit.bind(mq);
  mq.emit = (packet, done) => (consumedLocally(packet) ? done?.() : emit(packet, done));
  const persistence = redisPersistence({ conn: connect(`${prefix}:`) });
  try {
    await Promise.all(connections.map((c) => (c.status === 'ready' ? undefined : waitReady(c))));
  } catch (err) {
    for (const c of connections) c.disconnect();
    throw err;
  }
  return {
    aedes: { mq, persistence },
    prefix,
    close: async () => {
      // The promise form: the callback form re-throws a failed destroy (Redis gone, or a broker
      // that never started and so never set its persistence up) as an unhandled rejection.
      const destroyed = Promise.resolve()
        .then(() => persistence.destroy())
        .catch((err: Error) => logger.debug({ err: err.message }, 'MQTT cluster persistence closed with an error'));
      await settlesWithin(destroyed, 1000);
      // Aedes closed the emitter already when the broker stopped; this is for a failed start.
      // Bounded: mqemitter-redis waits for Redis to acknowledge, which a dead Redis never does.
      await settlesWithin(new Promise<void>((resolve) => mq.close(resolve)), 2000);
      for (const c of connections) c.disconnect();
    },
  };
}

/**
 * aedes-persistence-redis sends some commands without waiting for them (the will list's LREM and
 * RPUSH, on every clean-session disconnect), and mqemitter-redis sends QUIT the same way. While
 * Redis is unreachable ioredis rejects such a command after maxRetriesPerRequest reconnects, or at
 * close; a rejection nobody handles ends the Node process. So every command's promise is marked
 * handled here: a caller that awaits one still gets its error, and a lost will-list entry is
 * cleaned up on its next read.
 */
function handleEveryCommand(conn: Redis, logger: Logger): void {
  const send = conn.sendCommand.bind(conn);
  conn.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    const result = send(...args) as Promise<unknown>;
    result.catch((err: Error) =>
      logger.debug({ command: args[0].name, err: err.message }, 'Redis command of the MQTT cluster failed'),
    );
    return result;
  }) as Redis['sendCommand'];
}

/** The first connection decides whether the replica starts: Redis unreachable at start is an error. */
function waitReady(conn: Redis): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('cannot reach Redis for --cluster within 10 s')), 10_000);
    conn.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
