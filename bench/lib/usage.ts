/**
 * What a bench's measured phase cost (Linux): CPU seconds of given processes, of every `postgres`
 * process on the machine, of Redis and of the whole machine, from /proc and Redis INFO, and the
 * commands and publishes Redis processed. Take a sample before and after the phase; `usageBetween`
 * turns them into cores (CPU seconds / wall seconds) and Redis rates.
 *
 * PostgreSQL, Redis and the machine are counted whole: anything else using them meanwhile (another
 * bench) is counted too, and shows as `other` cores.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcCpu {
  comm: string;
  /** utime + stime, plus cutime + cstime: children it reaped (a postmaster's exited backends). */
  seconds: number;
}

function procCpu(pid: number | string): ProcCpu | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone
  }
  const close = text.lastIndexOf(')');
  // After "pid (comm) ": field 3 (state) is f[0], so fields 14-17 (utime stime cutime cstime) are f[11..14].
  const f = text.slice(close + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  return { comm: text.slice(text.indexOf('(') + 1, close), seconds: ticks / TICKS_PER_SECOND };
}

/** CPU seconds of these processes so far (0 for one that is gone). */
export function cpuSeconds(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (procCpu(pid)?.seconds ?? 0), 0);
}

/** CPU seconds of every process named `postgres` on the machine (the postmaster counts its exited backends). */
export function postgresCpuSeconds(): number {
  let sum = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const p = procCpu(entry);
    if (p?.comm === 'postgres') sum += p.seconds;
  }
  return sum;
}

/** CPU seconds the whole machine was busy (all cores: user, nice, system, irq, softirq, steal). */
export function machineBusySeconds(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

export interface RedisCounters {
  commands: number;
  /** PUBLISH and SPUBLISH calls. */
  publishes: number;
  cpuSeconds: number;
}

function infoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** From INFO stats (total_commands_processed), commandstats and cpu (used_cpu_user + used_cpu_sys, whole server). */
export async function redisCounters(redis: Redis): Promise<RedisCounters> {
  const f = infoFields(
    [await redis.info('stats'), await redis.info('commandstats'), await redis.info('cpu')].join('\n'),
  );
  const calls = (cmd: string): number => Number(/calls=(\d+)/.exec(f.get(`cmdstat_${cmd}`) ?? '')?.[1] ?? 0);
  return {
    commands: Number(f.get('total_commands_processed') ?? NaN),
    publishes: calls('publish') + calls('spublish'),
    cpuSeconds: Number(f.get('used_cpu_user') ?? NaN) + Number(f.get('used_cpu_sys') ?? NaN),
  };
}

export interface UsageSample {
  /** performance.now() */
  at: number;
  /** CPU seconds by name: each process group given, `postgres`, `redis`, `bench` (this process), `machine`. */
  cpu: Record<string, number>;
  redis: RedisCounters;
}

/** One sample; `groups` names the processes to count (e.g. replicas, devices). */
export async function sampleUsage(groups: Record<string, readonly number[]>, redis: Redis): Promise<UsageSample> {
  const counters = await redisCounters(redis);
  const own = process.cpuUsage();
  const cpu: Record<string, number> = {};
  for (const [name, pids] of Object.entries(groups)) cpu[name] = cpuSeconds(pids);
  cpu.postgres = postgresCpuSeconds();
  cpu.redis = counters.cpuSeconds;
  cpu.bench = (own.user + own.system) / 1e6;
  cpu.machine = machineBusySeconds();
  return { at: performance.now(), cpu, redis: counters };
}

export interface Usage {
  seconds: number;
  /** Average cores busy, by the names of UsageSample.cpu, and `other`: the machine less all the named ones. */
  cores: Record<string, number>;
  redisCommandsPerSecond: number;
  redisPublishesPerSecond: number;
}

export function usageBetween(a: UsageSample, b: UsageSample): Usage {
  const seconds = (b.at - a.at) / 1000;
  const cores: Record<string, number> = {};
  for (const name of Object.keys(a.cpu)) cores[name] = (b.cpu[name]! - a.cpu[name]!) / seconds;
  cores.other = Object.entries(cores).reduce(
    (rest, [name, c]) => (name === 'machine' ? rest : rest - c),
    cores.machine!,
  );
  return {
    seconds,
    cores,
    redisCommandsPerSecond: (b.redis.commands - a.redis.commands) / seconds,
    redisPublishesPerSecond: (b.redis.publishes - a.redis.publishes) / seconds,
  };
}
