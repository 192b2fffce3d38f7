import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  AddThingToThingGroupCommand,
  AttachThingPrincipalCommand,
  CreateJobCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DescribeJobCommand,
  DescribeJobExecutionCommand,
  IoTClient,
  ListJobExecutionsForJobCommand,
  UpdateEventConfigurationsCommand,
  type JobExecutionSummaryForJob,
} from '@aws-sdk/client-iot';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/database.js';
import { ensureCompiled, FLEETJOBS_BIN as BIN } from '../helpers/compiled.js';
import { createPostgresDatabase, DIALECTS, type TestDatabase } from '../helpers/postgres.js';
import { TEST_REGION } from '../helpers/server.js';

/**
 * Issue 17: the promise to devices behind group commit (SQLite, src/store/transaction-batcher.ts)
 * and appended counter deltas (PostgreSQL, src/jobs/job-counters.ts). An update a device heard
 * "accepted" for is stored; `kill -9` of the server at any point loses no acknowledged update and
 * no notification, and the job counters stay exact.
 *
 * The real `fleetjobs serve` process; N mqtt.js devices over TLS with a client certificate, each
 * running two jobs: start-next, STEPS updates IN_PROGRESS (statusDetails step=i, expectedVersion),
 * SUCCEEDED, then waiting for the notify-next that names the second job. Every accepted reply is
 * recorded. When KILL_FRACTION of all accepted replies are in, SIGKILL; restart on the same data
 * dir (and database), then:
 * - DescribeJobExecution of every execution: stored versionNumber >= the last one acknowledged, and
 *   the stored state is the acknowledged one or one the device sent later (its reply lost);
 * - DescribeJob's jobProcessDetails equal the counts of ListJobExecutionsForJob;
 * - a device whose first job SUCCEEDED is stored but which heard no notify-next for the second
 *   before the crash: the notifier announces the second job after the restart (its outbox row
 *   survived). It is checked in the notifier's record (thing_notify_state), because the message
 *   itself goes to whoever is connected when it is sent (a clean MQTT session: the device is not);
 * - the devices reconnect and finish; every job completes once ($aws/events/job/+/completed,
 *   allowed to a watcher thing by --device-topics) and every device that was connected heard the
 *   notify-next naming the second job after finishing the first.
 *
 * What it can catch (tried by hand on SQLite): a TransactionBatcher that answers devices 20 ms before
 * its COMMIT failed 2 runs of 2 (an acknowledged SUCCEEDED stored as IN_PROGRESS); one that answers
 * inside the transaction, a turn or 1 ms before the COMMIT, passed 9 runs of 9: the reply leaves the
 * broker only after the COMMIT of the same turn, or the test's SIGKILL lands later than that. kill -9
 * leaves the operating system's page cache intact, so this does not test synchronous=FULL (power loss).
 */
const N = 60;
const STEPS = 4;
const JOBS = ['durable-1', 'durable-2'] as const;
/** Accepted replies of a run without a crash: start-next, STEPS updates and SUCCEEDED per execution. */
const WORK = N * JOBS.length * (STEPS + 2);
const KILL_FRACTION = Number(process.env.FLEETJOBS_DURABILITY_KILL_AT ?? 0.4);
const KILL_AT = Math.ceil(WORK * KILL_FRACTION);
/** Outbox and notifier leases a killed server held run out after 30 s on PostgreSQL (on SQLite the restart frees them, src/notifier/notifier.ts). */
const WAIT_MS = 45_000;

const log = (m: string) => process.stderr.write(`[durability] ${m}\n`);

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Re-checks `check` on each turn of a slow poll until it holds (state that emits no event to wait on). */
async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Served {
  child: ChildProcess;
  ready: Record<string, string>;
  exited: Promise<unknown>;
}

async function serve(dataDir: string, env: Record<string, string>, database?: string): Promise<Served> {
  const args = [
    BIN,
    'serve',
    ...['--data-dir', dataDir, '--log-level', 'warn'],
    ...['--http', '127.0.0.1:0', '--mqtt', '127.0.0.1:0', '--device-https', '127.0.0.1:0'],
    // The watcher thing may read the job completion events (spec 5.9).
    ...['--device-topics', '$aws/events/job/+/completed'],
    ...(database ? ['--database', database] : []),
  ];
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  const exited = once(child, 'exit');
  let out = '';
  const ready = await new Promise<Record<string, string>>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && out.includes('\n')) resolve(JSON.parse(line) as Record<string, string>);
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
  return { child, ready, exited };
}

interface Tls {
  cert: string;
  key: string;
  ca: string;
}

interface Reply {
  topic: string;
  payload: Record<string, unknown>;
}

/** One state of an execution: what a device sent or heard acknowledged. */
interface ExecState {
  jobId: string;
  version: number;
  status: string;
  step: number;
}

interface WireExecution {
  jobId: string;
  status: string;
  versionNumber: number;
  statusDetails?: Record<string, string>;
}

class Device {
  /** Every accepted reply, in order. */
  readonly acks: ExecState[] = [];
  /** Every update sent, with the version it makes if accepted. */
  readonly sent: ExecState[] = [];
  /** Job ids named by notify-next, in order (the second job is named only once the first is done). */
  readonly notified: string[] = [];
  readonly errors: string[] = [];
  finished = false;
  private client: MqttClient | undefined;
  private readonly waiters = new Map<string, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private notifyWaiters: ((jobId: string) => void)[] = [];
  private seq = 0;
  private running: Promise<void> | undefined;

  constructor(
    readonly thing: string,
    private readonly onAck: () => void,
  ) {}

  private get base(): string {
    return `$aws/things/${this.thing}/jobs`;
  }

  async connect(url: string, tls: Tls): Promise<void> {
    const client = await mqtt.connectAsync(url, {
      clientId: this.thing,
      ...tls,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 20_000,
    });
    client.on('error', () => undefined);
    client.on('message', (topic, buf) => this.onMessage(topic, buf));
    client.once('close', () => {
      for (const w of this.waiters.values()) w.reject(new Error('connection lost'));
      this.waiters.clear();
      if (this.client === client) this.client = undefined;
    });
    this.client = client;
    await client.subscribeAsync([`${this.base}/notify-next`, `${this.base}/start-next/+`, `${this.base}/+/update/+`], {
      qos: 1,
    });
  }

  /** Runs the device's jobs until start-next has nothing left; resolves early if the connection drops. */
  start(): Promise<void> {
    this.running ??= this.work()
      .catch((e: Error) => {
        if (this.client) this.errors.push(e.message);
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  async close(): Promise<void> {
    await this.client?.endAsync(true).catch(() => undefined);
  }

  private onMessage(topic: string, buf: Buffer): void {
    const payload = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
    if (topic.endsWith('/notify-next')) {
      const ex = payload.execution as WireExecution | undefined;
      if (!ex) return;
      this.notified.push(ex.jobId);
      if (ex.jobId === JOBS[0] && !this.running && !this.finished) void this.start();
      for (const w of this.notifyWaiters) w(ex.jobId);
      return;
    }
    const token = payload.clientToken;
    const waiter = typeof token === 'string' ? this.waiters.get(token) : undefined;
    if (waiter && typeof token === 'string') {
      this.waiters.delete(token);
      waiter.resolve({ topic, payload });
    }
  }

  private request(suffix: string, body: Record<string, unknown>): Promise<Reply> {
    const client = this.client;
    if (!client) return Promise.reject(new Error('not connected'));
    const clientToken = `${this.thing}-${++this.seq}`;
    return new Promise<Reply>((resolve, reject) => {
      this.waiters.set(clientToken, { resolve, reject });
      client.publish(`${this.base}/${suffix}`, JSON.stringify({ ...body, clientToken }), { qos: 1 });
    });
  }

  private ack(state: ExecState): void {
    this.acks.push(state);
    this.onAck();
  }

  private waitNotified(jobId: string): Promise<void> {
    if (this.notified.includes(jobId)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const w = (named: string) => {
        if (named !== jobId) return;
        this.notifyWaiters = this.notifyWaiters.filter((x) => x !== w);
        resolve();
      };
      this.notifyWaiters.push(w);
      // A crash ends the wait with the connection: the device runs start-next when it is back.
      this.client?.once('close', () => reject(new Error('connection lost')));
    });
  }

  private async work(): Promise<void> {
    for (;;) {
      const start = await this.request('start-next', {});
      if (start.topic.endsWith('/rejected')) throw new Error(`start-next rejected: ${JSON.stringify(start.payload)}`);
      const ex = start.payload.execution as WireExecution | undefined;
      if (!ex) {
        this.finished = true;
        return;
      }
      // After a crash the device resumes from the stored state start-next reports.
      let version = ex.versionNumber;
      let step = Number(ex.statusDetails?.step ?? 0);
      this.ack({ jobId: ex.jobId, version, status: ex.status, step });
      while (step < STEPS) {
        step++;
        version = await this.update(ex.jobId, version, 'IN_PROGRESS', step);
      }
      await this.update(ex.jobId, version, 'SUCCEEDED', step);
      if (ex.jobId === JOBS[0]) await this.waitNotified(JOBS[1]);
    }
  }

  private async update(jobId: string, expectedVersion: number, status: string, step: number): Promise<number> {
    this.sent.push({ jobId, version: expectedVersion + 1, status, step });
    const reply = await this.request(`${jobId}/update`, {
      status,
      // spec 4.3: omitted details are kept, so SUCCEEDED keeps the last step.
      ...(status === 'IN_PROGRESS' && { statusDetails: { step: String(step) } }),
      expectedVersion,
      includeJobExecutionState: true,
    });
    if (reply.topic.endsWith('/rejected')) throw new Error(`update rejected: ${JSON.stringify(reply.payload)}`);
    const state = reply.payload.executionState as WireExecution;
    const acked: ExecState = {
      jobId,
      version: state.versionNumber,
      status: state.status,
      step: Number(state.statusDetails?.step ?? 0),
    };
    this.ack(acked);
    return acked.version;
  }
}

/** The watcher: one MQTT session at a time, counting job completion events across them. */
class Watcher {
  readonly completed: string[] = [];
  private client: MqttClient | undefined;
  private listeners: (() => void)[] = [];

  async connect(url: string, tls: Tls): Promise<void> {
    const client = await mqtt.connectAsync(url, {
      clientId: 'durable-watcher',
      ...tls,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    client.on('error', () => undefined);
    client.on('message', (topic) => {
      this.completed.push(topic.split('/')[3]!);
      for (const l of this.listeners) l();
    });
    await client.subscribeAsync('$aws/events/job/+/completed', { qos: 1 });
    this.client = client;
  }

  allCompleted(jobIds: readonly string[]): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (jobIds.every((j) => this.completed.includes(j))) resolve();
      };
      this.listeners.push(check);
      check();
    });
  }

  async close(): Promise<void> {
    await this.client?.endAsync(true).catch(() => undefined);
  }
}

describe.each(DIALECTS)('kill -9 in the middle of device transitions (%s)', (dialect) => {
  let dataDir = '';
  const env = {
    FLEETJOBS_ACCESS_KEY_ID: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
    FLEETJOBS_SECRET_ACCESS_KEY: randomBytes(24).toString('base64'),
  };
  let pg: TestDatabase | undefined;
  let server: Served | undefined;
  let store: Store | undefined;
  const devices: Device[] = [];
  const watcher = new Watcher();
  const clients: IoTClient[] = [];

  const iotFor = (s: Served): IoTClient => {
    const c = new IoTClient({
      endpoint: s.ready.http,
      region: TEST_REGION,
      maxAttempts: 1,
      credentials: { accessKeyId: env.FLEETJOBS_ACCESS_KEY_ID, secretAccessKey: env.FLEETJOBS_SECRET_ACCESS_KEY },
    });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    await ensureCompiled();
    // Made here, not at collection: a suite left out by -t runs neither hook.
    dataDir = mkdtempSync(join(tmpdir(), 'fj-durability-'));
    if (dialect === 'postgres') pg = await createPostgresDatabase();
  });

  afterAll(async () => {
    await Promise.all(devices.map((d) => d.close()));
    await watcher.close();
    for (const c of clients) c.destroy();
    await store?.close();
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    await pg?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it(`loses no acknowledged update and no notification; counters stay exact (${N} devices)`, async () => {
    const t0 = performance.now();
    const at = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
    server = await serve(dataDir, env, pg?.url);
    let iot = iotFor(server);

    // Provisioning: N things in a group, one certificate for all (each device still connects
    // with its own thing name as client id), plus the watcher thing outside the group.
    const keys = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'durable' }));
    const names = Array.from({ length: N }, (_, i) => `durable-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < N; i += 10) {
      await Promise.all(
        names.slice(i, i + 10).map(async (thingName) => {
          await iot.send(new CreateThingCommand({ thingName }));
          await iot.send(new AttachThingPrincipalCommand({ thingName, principal: keys.certificateArn! }));
          await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'durable', thingName }));
        }),
      );
    }
    await iot.send(new CreateThingCommand({ thingName: 'durable-watcher' }));
    await iot.send(new AttachThingPrincipalCommand({ thingName: 'durable-watcher', principal: keys.certificateArn! }));
    await iot.send(new UpdateEventConfigurationsCommand({ eventConfigurations: { JOB: { Enabled: true } } }));
    const tls: Tls = {
      cert: keys.certificatePem!,
      key: keys.keyPair!.PrivateKey!,
      ca: readFileSync(server.ready.caCertificate!, 'utf8'),
    };

    let acks = 0;
    let killed = false;
    const crashed = new Promise<void>((resolve) => {
      const onAck = () => {
        if (++acks < KILL_AT || killed) return;
        killed = true;
        // kill -9, in the turn the reply arrived: no shutdown of any kind.
        server!.child.kill('SIGKILL');
        resolve();
      };
      for (const thing of names) devices.push(new Device(thing, onAck));
    });
    await watcher.connect(server.ready.mqtt!, tls);
    await Promise.all(devices.map((d) => d.connect(server!.ready.mqtt!, tls)));
    log(`${at()}: ${N} devices connected (${dialect})`);
    const thingGroupArn = `arn:aws:iot:${TEST_REGION}:000000000000:thinggroup/durable`;
    for (const jobId of JOBS) {
      await iot.send(
        new CreateJobCommand({ jobId, targets: [thingGroupArn], document: JSON.stringify({ op: 'install', jobId }) }),
      );
    }
    await within(WAIT_MS, `${KILL_AT} accepted replies`, crashed);
    await server.exited;
    log(`${at()}: killed with -9 after ${acks} of ${WORK} accepted replies`);
    // Replies already on their way when the server died still count: the server said "accepted".
    await Promise.all(devices.map((d) => d.close()));
    await watcher.close();

    server = await serve(dataDir, env, pg?.url);
    iot = iotFor(server);
    log(`${at()}: restarted`);

    // 1. Every acknowledged update is stored, or a later one the device sent.
    const stored = new Map<string, ExecState>();
    for (const d of devices) {
      for (const jobId of JOBS) {
        const ex = (await iot.send(new DescribeJobExecutionCommand({ jobId, thingName: d.thing }))).execution!;
        const s: ExecState = {
          jobId,
          version: ex.versionNumber!,
          status: ex.status!,
          step: Number(ex.statusDetails?.detailsMap?.step ?? 0),
        };
        stored.set(`${d.thing}/${jobId}`, s);
        const last = d.acks.filter((a) => a.jobId === jobId).at(-1);
        const where = `${d.thing} ${jobId}: stored ${JSON.stringify(s)}, last acknowledged ${JSON.stringify(last)}`;
        if (last) expect(s.version, where).toBeGreaterThanOrEqual(last.version);
        if (last && s.version === last.version) expect(s, where).toEqual(last);
        // Never acknowledged: untouched, or started by a start-next whose reply the crash took.
        else if (!last && (s.status === 'QUEUED' || (s.status === 'IN_PROGRESS' && s.step === 0))) continue;
        else expect(d.sent, `${where}: a state the device never sent`).toContainEqual(s);
      }
    }
    const acknowledged = devices.reduce((n, d) => n + d.acks.length, 0);
    log(`${at()}: all ${acknowledged} acknowledged transitions stored`);

    // 2. Counters: each thing once, by its execution's stored status.
    const completedBeforeRestart: string[] = [];
    for (const jobId of JOBS) {
      const summaries: JobExecutionSummaryForJob[] = [];
      let nextToken: string | undefined;
      do {
        const page = await iot.send(new ListJobExecutionsForJobCommand({ jobId, maxResults: 100, nextToken }));
        summaries.push(...(page.executionSummaries ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
      expect(new Set(summaries.map((s) => s.thingArn)).size).toBe(N);
      expect(summaries).toHaveLength(N);
      const count = (status: string) => summaries.filter((s) => s.jobExecutionSummary?.status === status).length;
      const job = (await iot.send(new DescribeJobCommand({ jobId }))).job!;
      if (job.status === 'COMPLETED') completedBeforeRestart.push(jobId);
      const details = job.jobProcessDetails!;
      expect(details, jobId).toMatchObject({
        numberOfQueuedThings: count('QUEUED'),
        numberOfInProgressThings: count('IN_PROGRESS'),
        numberOfSucceededThings: count('SUCCEEDED'),
        numberOfFailedThings: 0,
        numberOfRejectedThings: 0,
        numberOfCanceledThings: 0,
        numberOfRemovedThings: 0,
        numberOfTimedOutThings: 0,
      });
      log(`${at()}: ${jobId} ${JSON.stringify(details)}`);
    }

    // 3. Devices reconnect and finish. One whose first job succeeded (stored) but which heard no
    // notify-next for the second waits until the notifier has announced the second job.
    store = await openStore({ database: pg?.url ?? join(dataDir, 'fleetjobs.sqlite'), migrate: false });
    const announced = async (thing: string): Promise<boolean> => {
      const row = await store!.db
        .selectFrom('thing_notify_state')
        .select('head_key')
        .where('thing_name', '=', thing)
        .where('namespace_id', '=', '')
        .executeTakeFirst();
      return row?.head_key === `${JOBS[1]}#1`;
    };
    const ca = readFileSync(server.ready.caCertificate!, 'utf8');
    await watcher.connect(server.ready.mqtt!, { ...tls, ca });
    const heldBack = devices.filter(
      (d) => stored.get(`${d.thing}/${JOBS[0]}`)!.status === 'SUCCEEDED' && !d.notified.includes(JOBS[1]),
    );
    log(`${at()}: ${heldBack.length} devices wait for the notifier to announce ${JOBS[1]}`);
    const finished = Promise.all(
      devices.map(async (d) => {
        if (heldBack.includes(d))
          await until(`${d.thing}: notify-next for ${JOBS[1]} announced`, WAIT_MS, () => announced(d.thing));
        await d.connect(server!.ready.mqtt!, { ...tls, ca });
        // Like a device that reconnects: it asks for its next job rather than wait for a notification.
        await d.start();
      }),
    );
    await within(WAIT_MS + 10_000, 'devices finishing', finished);
    // A job done before the crash (not expected at KILL_FRACTION 0.4) may have announced its
    // completion while no watcher was connected.
    const toComplete = JOBS.filter((j) => !completedBeforeRestart.includes(j));
    await within(WAIT_MS, 'completion events', watcher.allCompleted(toComplete));
    log(`${at()}: all devices finished, both jobs completed`);

    expect(devices.flatMap((d) => d.errors)).toEqual([]);
    expect(devices.filter((d) => !d.finished).map((d) => d.thing)).toEqual([]);
    for (const jobId of JOBS) {
      const job = (await iot.send(new DescribeJobCommand({ jobId }))).job!;
      expect(job.status).toBe('COMPLETED');
      expect(job.completedAt).toBeInstanceOf(Date);
      expect(job.jobProcessDetails).toMatchObject({
        numberOfSucceededThings: N,
        numberOfQueuedThings: 0,
        numberOfInProgressThings: 0,
      });
    }
    // Completed exactly once: one event per job (none repeated by an outbox row published twice).
    for (const jobId of JOBS) {
      const events = watcher.completed.filter((j) => j === jobId).length;
      if (completedBeforeRestart.includes(jobId)) expect(events, jobId).toBeLessThanOrEqual(1);
      else expect(events, jobId).toBe(1);
    }
    // Every device heard the second job named after it finished the first, unless the crash took
    // that message (checked above in the notifier's record instead).
    const unnotified = devices.filter((d) => !heldBack.includes(d) && !d.notified.includes(JOBS[1]));
    expect(unnotified.map((d) => d.thing)).toEqual([]);
  });
});
