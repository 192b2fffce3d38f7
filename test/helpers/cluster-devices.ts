import mqtt, { type MqttClient } from 'mqtt';

/**
 * A lean simulated fleet for the scaled-out tests: each device is an mqtt.js client over TLS with
 * a client certificate, behind a "load balancer" that is the list of replica endpoints (a device
 * that loses its replica tries the next ones until one accepts). A device runs every job it is
 * offered (start-next, then update SUCCEEDED) when it connects and whenever notify-next names an
 * execution, at least once and idempotently: a reply lost with its replica is made good by the
 * next run.
 */
export interface FleetCredentials {
  cert: string;
  key: string;
  ca: string;
}

export interface SimDevice {
  thing: string;
  /** Index of the replica of each successful connection, in order. */
  replicas: number[];
  /** notify-next messages naming a QUEUED execution, by `jobId#executionNumber`. */
  queuedNotifications: Map<string, number>;
  /** Executions this device saw through to SUCCEEDED (`jobId#executionNumber`), each time it did. */
  completed: string[];
  /** Rejections other than the ones a retry after a lost reply explains. */
  errors: string[];
  completedAt?: number;
  /** When the first QUEUED notify-next arrived (performance.now()). */
  notifiedAt?: number;
}

interface Live {
  d: SimDevice;
  client: MqttClient | undefined;
  waiters: Map<string, { resolve: (m: Reply) => void; reject: (e: Error) => void }>;
  working: boolean;
  again: boolean;
}

interface Reply {
  topic: string;
  payload: Record<string, unknown>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class SimFleet {
  readonly devices: SimDevice[] = [];
  private readonly live: Live[] = [];
  private stopping = false;
  private seq = 0;
  private readonly listeners: ((d: SimDevice) => void)[] = [];

  constructor(
    private readonly endpoints: string[],
    private readonly creds: FleetCredentials,
  ) {}

  /** Connects device `thing` to replica `home` (or the next that accepts). */
  async add(thing: string, home: number): Promise<SimDevice> {
    const d: SimDevice = { thing, replicas: [], queuedNotifications: new Map(), completed: [], errors: [] };
    const l: Live = { d, client: undefined, waiters: new Map(), working: false, again: false };
    this.devices.push(d);
    this.live.push(l);
    await this.connect(l, home);
    return d;
  }

  /** Called with a device each time it completes an execution. */
  onCompleted(listener: (d: SimDevice) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.live.map((l) => l.client?.endAsync(true).catch(() => undefined)));
  }

  private async connect(l: Live, start: number): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      const index = (start + attempt) % this.endpoints.length;
      let client: MqttClient;
      try {
        client = await mqtt.connectAsync(this.endpoints[index]!, {
          clientId: l.d.thing,
          ...this.creds,
          protocolVersion: 4,
          reconnectPeriod: 0,
          connectTimeout: 20_000,
          keepalive: 60,
        });
      } catch {
        await sleep(attempt < this.endpoints.length ? 50 : 500);
        continue;
      }
      client.on('error', () => undefined);
      l.client = client;
      l.d.replicas.push(index);
      client.on('message', (topic, buf) => this.onMessage(l, topic, buf));
      client.once('close', () => {
        for (const w of l.waiters.values()) w.reject(new Error('connection lost'));
        l.waiters.clear();
        if (this.stopping || l.client !== client) return;
        l.client = undefined;
        // A load balancer sends a reconnecting device to a live replica, not straight back.
        setTimeout(() => void this.connect(l, index + 1), 200 + Math.random() * 1500);
      });
      try {
        await client.subscribeAsync(`$aws/things/${l.d.thing}/jobs/notify-next`, { qos: 1 });
      } catch {
        return; // closed meanwhile: the close handler reconnects
      }
      void this.work(l);
      return;
    }
  }

  private onMessage(l: Live, topic: string, buf: Buffer): void {
    const payload = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
    if (topic.endsWith('/notify-next')) {
      const ex = payload.execution as { jobId: string; executionNumber: number; status: string } | undefined;
      if (ex?.status === 'QUEUED') {
        const key = `${ex.jobId}#${ex.executionNumber}`;
        l.d.queuedNotifications.set(key, (l.d.queuedNotifications.get(key) ?? 0) + 1);
        l.d.notifiedAt ??= performance.now();
      }
      if (ex) void this.work(l);
      return;
    }
    const token = payload.clientToken;
    const waiter = typeof token === 'string' ? l.waiters.get(token) : undefined;
    if (waiter && typeof token === 'string') {
      l.waiters.delete(token);
      waiter.resolve({ topic, payload });
    }
  }

  private request(l: Live, topic: string, body: Record<string, unknown>): Promise<Reply> {
    const client = l.client;
    if (!client) return Promise.reject(new Error('not connected'));
    const clientToken = `t${++this.seq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        l.waiters.delete(clientToken);
        reject(new Error(`no reply on ${topic}`));
      }, 60_000);
      l.waiters.set(clientToken, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      client.publish(topic, JSON.stringify({ ...body, clientToken }), { qos: 1 });
    });
  }

  /** Runs pending executions to SUCCEEDED; one run per device at a time, re-run when asked meanwhile. */
  private async work(l: Live): Promise<void> {
    if (l.working) {
      l.again = true;
      return;
    }
    l.working = true;
    const base = `$aws/things/${l.d.thing}/jobs`;
    try {
      do {
        l.again = false;
        const start = await this.request(l, `${base}/start-next`, {});
        const ex = start.payload.execution as { jobId: string; executionNumber: number } | undefined;
        if (start.topic.endsWith('/rejected')) l.d.errors.push(`start-next: ${JSON.stringify(start.payload)}`);
        if (!ex) continue;
        const key = `${ex.jobId}#${ex.executionNumber}`;
        const up = await this.request(l, `${base}/${ex.jobId}/update`, { status: 'SUCCEEDED' });
        const state = up.payload.executionState as { status?: string } | undefined;
        if (up.topic.endsWith('/accepted')) this.completed(l, key);
        // The accepted reply of an earlier run was lost with its replica: the update had committed.
        else if (up.payload.code === 'InvalidStateTransition' && state?.status === 'SUCCEEDED') this.completed(l, key);
        else l.d.errors.push(`update: ${JSON.stringify(up.payload)}`);
        l.again = true;
      } while (l.again && !this.stopping);
    } catch {
      // Connection lost or no reply: the reconnect runs the device again.
    } finally {
      l.working = false;
    }
  }

  private completed(l: Live, key: string): void {
    l.d.completed.push(key);
    l.d.completedAt = performance.now();
    for (const listener of this.listeners) listener(l.d);
  }
}
