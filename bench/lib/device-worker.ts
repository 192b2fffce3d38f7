/**
 * One process of simulated devices for the benches (issue 17 item 5: devices never run on the
 * server's event loop). The parent (bench/lib/device-pool.ts) forks a few of these and sends each
 * one a phase at a time over IPC; every reply carries latencies (ms) and wall-clock times (ms since
 * the epoch, comparable across processes on one machine).
 */
import type { MqttClient } from 'mqtt';
import { connectDevice } from './connect-device.js';
import type { PhaseReply, PhaseRequest } from './device-protocol.js';

interface Device {
  thing: string;
  client: MqttClient;
  waiters: Map<string, (topic: string, payload: Record<string, unknown>) => void>;
  /** Wall-clock time of the first notify-next that named an execution. */
  notifiedAt?: number;
  /** Wall-clock time the jobsOnNotify phase saw this device's update SUCCEEDED accepted. */
  completedAt?: number;
  /** Wall-clock time of the first message on bench/<thing>/push (the bare-publish baseline). */
  pushedAt?: number;
  /** Called on the next notify-next that names an execution (runJobs waits on it). */
  nextNotified?: () => void;
}

type ConnectPhase = Extract<PhaseRequest, { phase: 'connect' }>;

const wallNow = (): number => performance.timeOrigin + performance.now();
const devices: Device[] = [];
let seq = 0;
let notifyWaiter: (() => void) | undefined;
let pushWaiter: (() => void) | undefined;
/** Called with a device on its first notify-next naming an execution (the jobsOnNotify phase). */
let onNotified: ((d: Device) => void) | undefined;

/** `index`: the device's index in the whole fleet, which picks its endpoint when there are several. */
async function connectOne(thing: string, index: number, req: ConnectPhase): Promise<Device> {
  const url = typeof req.url === 'string' ? req.url : req.url[index % req.url.length]!;
  const client = await connectDevice(thing, { ...req, url });
  const d: Device = { thing, client, waiters: new Map() };
  client.on('message', (topic, buf) => {
    if (topic.endsWith('/push')) {
      d.pushedAt ??= wallNow();
      if (pushWaiter && devices.every((x) => x.pushedAt !== undefined)) pushWaiter();
      return;
    }
    const payload = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
    if (topic.endsWith('/notify-next') && payload.execution) {
      d.nextNotified?.();
      d.nextNotified = undefined;
    }
    if (topic.endsWith('/notify-next') && payload.execution && d.notifiedAt === undefined) {
      d.notifiedAt = wallNow();
      onNotified?.(d);
      if (notifyWaiter && devices.every((x) => x.notifiedAt !== undefined)) notifyWaiter();
    }
    const token = typeof payload.clientToken === 'string' ? payload.clientToken : String(payload.seq);
    const waiter = d.waiters.get(token);
    if (waiter) {
      d.waiters.delete(token);
      waiter(topic, payload);
    }
  });
  await client.subscribeAsync([`$aws/things/${thing}/jobs/notify-next`, `bench/${thing}/echo`, `bench/${thing}/push`], {
    qos: 1,
  });
  return d;
}

/** Publishes and resolves with the latency (ms) when the message keyed `token` comes back. */
async function roundTrip(d: Device, topic: string, body: Record<string, unknown>, token: string): Promise<number> {
  return (await exchange(d, topic, body, token)).ms;
}

/** Publishes and resolves with the reply and the latency (ms). */
function exchange(
  d: Device,
  topic: string,
  body: Record<string, unknown>,
  token: string,
): Promise<{ ms: number; payload: Record<string, unknown> }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    d.waiters.set(token, (replyTopic, payload) => {
      if (replyTopic.endsWith('/rejected')) reject(new Error(`${topic}: ${JSON.stringify(payload)}`));
      else resolve({ ms: performance.now() - start, payload });
    });
    d.client.publish(topic, JSON.stringify(body), { qos: 1 });
  });
}

/** Publishes each step in turn, the next when the previous one was accepted; the latencies (ms). */
async function runSteps(d: Device, steps: [string, Record<string, unknown>][]): Promise<number[]> {
  const out: number[] = [];
  for (const [topic, body] of steps) {
    const token = `c${++seq}`;
    out.push(await roundTrip(d, topic, { ...body, clientToken: token }, token));
  }
  return out;
}

/** start-next then update SUCCEEDED of the job it gave, `jobs` times; waits for notify-next when none is there yet. */
async function runJobs(d: Device, jobs: number, latencies: number[]): Promise<void> {
  const base = `$aws/things/${d.thing}/jobs`;
  for (let done = 0; done < jobs;) {
    const next = new Promise<void>((resolve) => (d.nextNotified = resolve));
    const token = `c${++seq}`;
    const started = await exchange(d, `${base}/start-next`, { clientToken: token }, token);
    latencies.push(started.ms);
    const jobId = (started.payload.execution as { jobId?: string } | undefined)?.jobId;
    if (jobId === undefined) {
      await next; // the next job is not created yet
      continue;
    }
    d.nextNotified = undefined;
    const updated = `c${++seq}`;
    latencies.push(
      await roundTrip(d, `${base}/${jobId}/update`, { status: 'SUCCEEDED', clientToken: updated }, updated),
    );
    done++;
  }
}

/** Resolves when every device ran `jobs` executions, each device starting as soon as it was notified. */
function jobsOnNotify(jobs: number): Promise<number[]> {
  const latencies: number[] = [];
  let pending = devices.length;
  // A phase after another (the cluster bench's warm-up) starts on the next notify-next; the
  // bench sends the phase before its CreateJob, so none can come before.
  if (devices.some((d) => d.completedAt !== undefined)) {
    for (const d of devices) d.notifiedAt = d.completedAt = undefined;
  }
  return new Promise<number[]>((resolve, reject) => {
    const run = (d: Device): void => {
      runJobs(d, jobs, latencies).then(() => {
        d.completedAt = wallNow();
        if (--pending === 0) resolve(latencies);
      }, reject);
    };
    onNotified = run;
    for (const d of devices) if (d.notifiedAt !== undefined) run(d);
    if (pending === 0) resolve(latencies);
  }).finally(() => (onNotified = undefined));
}

async function everyDevice(each: (d: Device) => Promise<number[]>): Promise<number[]> {
  const all = await Promise.all(devices.map(each));
  return all.flat();
}

async function run(req: PhaseRequest): Promise<Omit<PhaseReply, 'phase' | 'startedAt' | 'endedAt'>> {
  switch (req.phase) {
    case 'connect': {
      const first = req.first ?? 0;
      for (let i = 0; i < req.things.length; i += req.batch) {
        const batch = req.things.slice(i, i + req.batch).map((t, k) => connectOne(t, first + i + k, req));
        devices.push(...(await Promise.all(batch)));
      }
      return { latencies: [] };
    }
    case 'echo':
      return {
        latencies: await everyDevice(async (d) => {
          const out: number[] = [];
          for (let r = 0; r < req.rounds; r++) {
            const token = String(++seq);
            out.push(await roundTrip(d, `bench/${d.thing}/echo`, { seq: token }, token));
          }
          return out;
        }),
      };
    case 'notified': {
      if (!devices.every((d) => d.notifiedAt !== undefined)) {
        await new Promise<void>((resolve) => (notifyWaiter = resolve));
      }
      return { latencies: [], lastNotifiedAt: Math.max(...devices.map((d) => d.notifiedAt!)) };
    }
    case 'pushed': {
      if (!devices.every((d) => d.pushedAt !== undefined)) {
        await new Promise<void>((resolve) => (pushWaiter = resolve));
      }
      return { latencies: [], lastPushedAt: Math.max(...devices.map((d) => d.pushedAt!)) };
    }
    case 'jobs':
      return {
        latencies: await everyDevice(async (d) => {
          const base = `$aws/things/${d.thing}/jobs`;
          return runSteps(d, [
            [`${base}/start-next`, {}],
            [`${base}/${req.jobId}/update`, { status: 'IN_PROGRESS', statusDetails: { step: 'install' } }],
            [`${base}/${req.jobId}/update`, { status: 'SUCCEEDED' }],
          ]);
        }),
      };
    case 'jobsOnNotify': {
      const latencies = await jobsOnNotify(req.jobs ?? 1);
      return {
        latencies,
        lastNotifiedAt: Math.max(...devices.map((d) => d.notifiedAt!)),
        lastCompletedAt: Math.max(...devices.map((d) => d.completedAt!)),
      };
    }
    case 'get':
      return {
        latencies: await everyDevice(async (d) => {
          const out: number[] = [];
          for (let r = 0; r < req.rounds; r++) {
            const token = `g${++seq}`;
            out.push(await roundTrip(d, `$aws/things/${d.thing}/jobs/get`, { clientToken: token }, token));
          }
          return out;
        }),
      };
    case 'close':
      await Promise.all(devices.map((d) => d.client.endAsync(true)));
      return { latencies: [] };
  }
}

process.on('message', (req: PhaseRequest) => {
  const startedAt = wallNow();
  run(req).then(
    (out) =>
      process.send!({
        ...out,
        phase: req.phase,
        startedAt,
        endedAt: wallNow(),
        rss: process.memoryUsage().rss,
      } satisfies PhaseReply),
    (err: unknown) =>
      process.send!({
        phase: req.phase,
        startedAt,
        endedAt: wallNow(),
        latencies: [],
        error: err instanceof Error ? err.message : String(err),
      } satisfies PhaseReply),
  );
});
process.send!({ phase: 'ready', startedAt: wallNow(), endedAt: wallNow(), latencies: [] } satisfies PhaseReply);
