import type {
  KyselyPlugin,
  OperationNode,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryId,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely';
import type { Clock } from '../clock.js';
import { errorMapping, ServiceError } from '../errors.js';
import type { AwsServiceAdapter } from '../protocols/aws/adapter.js';
import type { AwsDispatcher } from '../protocols/aws/dispatcher.js';
import type { DeviceJobsApi } from '../protocols/mqtt/device-jobs-api.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { Db } from '../store/database.js';
import type { ServerMetrics } from './metrics.js';
import { COUNTS_STATUS_CHANGES } from './status-change-marker.js';

// Instrumentation is wrapped around the composition points of server.ts, so the code it measures
// does not know about metrics.

/** Every adapter registered from now on counts and times its operations (also the device HTTPS path, which calls the jobs data adapter directly). */
export function instrumentDispatcher(dispatcher: AwsDispatcher, m: ServerMetrics): void {
  const reachedService = new WeakSet<object>();
  const dispatch = dispatcher.dispatch.bind(dispatcher);
  dispatcher.dispatch = async (request, reply) => {
    await dispatch(request, reply);
    if (!reachedService.has(reply)) m.awsRejected.inc({ code: String(reply.statusCode) });
  };
  const register = dispatcher.register.bind(dispatcher);
  dispatcher.register = (adapter: AwsServiceAdapter) => {
    const handle = adapter.handle.bind(adapter);
    adapter.handle = async (req, body, reply) => {
      reachedService.add(reply);
      const end = m.awsRequestDuration.startTimer();
      let code = 500;
      try {
        await handle(req, body, reply);
        code = reply.statusCode;
      } catch (err) {
        if (err instanceof ServiceError) code = errorMapping(err.code).http;
        throw err;
      } finally {
        // A request from a device certificate (device HTTPS) has no signature: its service is the jobs data plane.
        const labels = { service: req.signature?.service ?? 'iot-jobs-data', operation: req.operation || 'unknown' };
        end(labels);
        m.awsRequests.inc({ ...labels, code: String(code) });
      }
    };
    register(adapter);
  };
}

const DEVICE_OPERATIONS = {
  getPendingJobExecutions: 'GetPendingJobExecutions',
  startNextPendingJobExecution: 'StartNextPendingJobExecution',
  describeJobExecution: 'DescribeJobExecution',
  updateJobExecution: 'UpdateJobExecution',
} as const;

/** The device jobs API (spec 5) as one protocol calls it; pendingState (the notifier's) is not a request. */
export function instrumentDeviceJobs(api: DeviceJobsApi, protocol: 'mqtt' | 'http', m: ServerMetrics): DeviceJobsApi {
  const timed =
    <A extends unknown[], R>(operation: string, fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      const end = m.deviceRequestDuration.startTimer({ protocol, operation });
      let outcome = 'InternalFailure';
      try {
        const r = await fn(...a);
        outcome = 'ok';
        return r;
      } catch (err) {
        if (err instanceof ServiceError) outcome = err.code;
        throw err;
      } finally {
        end();
        m.deviceRequests.inc({ protocol, operation, outcome });
      }
    };
  const o = DEVICE_OPERATIONS;
  return {
    getPendingJobExecutions: timed(o.getPendingJobExecutions, api.getPendingJobExecutions.bind(api)),
    startNextPendingJobExecution: timed(o.startNextPendingJobExecution, api.startNextPendingJobExecution.bind(api)),
    describeJobExecution: timed(o.describeJobExecution, api.describeJobExecution.bind(api)),
    updateJobExecution: timed(o.updateJobExecution, api.updateJobExecution.bind(api)),
    pendingState: api.pendingState.bind(api),
    pendingStates: api.pendingStates.bind(api),
  };
}

/** The scheduler's timer loop calls `this.tick`, so timing the instance's tick times every tick. */
export function instrumentScheduler(scheduler: Scheduler, m: ServerMetrics): void {
  const tick = scheduler.tick.bind(scheduler);
  scheduler.tick = async (now) => {
    const end = m.schedulerTickDuration.startTimer();
    try {
      return await tick(now);
    } finally {
      end();
    }
  };
}

/** Transactions timed from begin to commit or rollback (`db.transaction().execute(fn)`, the services' one way in). */
export function instrumentTransactions(db: Db, m: ServerMetrics): Db {
  const timedBuilder = (builder: object): object =>
    new Proxy(builder, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        if (typeof value !== 'function') return value;
        if (prop === 'execute') {
          return async (fn: unknown) => {
            const end = m.dbTransactionDuration.startTimer();
            try {
              const r = (await (value as (f: unknown) => Promise<unknown>).call(target, fn)) as unknown;
              end({ outcome: 'commit' });
              return r;
            } catch (err) {
              end({ outcome: 'rollback' });
              throw err;
            }
          };
        }
        // setIsolationLevel / setAccessMode return another builder.
        return (...args: unknown[]) => {
          const r = (value as (...a: unknown[]) => unknown).apply(target, args);
          return r && typeof r === 'object' && 'execute' in r ? timedBuilder(r) : r;
        };
      },
    });
  return new Proxy(db, {
    get(target, prop) {
      // Read with the real instance as receiver: Kysely keeps its state in private fields.
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'transaction') return () => timedBuilder(target.transaction());
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

const tableName = (node: OperationNode | undefined): string | undefined =>
  node?.kind === 'TableNode'
    ? (node as unknown as { table: { identifier: { name: string } } }).table.identifier.name
    : undefined;

/** The value a statement sets `status` to, when it sets it to a plain value. */
function statusSet(node: RootOperationNode): string | undefined {
  if (node.kind === 'UpdateQueryNode') {
    for (const u of node.updates ?? []) {
      const column = (u.column as unknown as { column: { name: string } }).column.name;
      if (column === 'status' && u.value.kind === 'ValueNode')
        return String((u.value as unknown as { value: unknown }).value);
    }
    return undefined;
  }
  if (node.kind === 'InsertQueryNode') {
    const at = node.columns?.findIndex((c) => c.column.name === 'status') ?? -1;
    const row =
      node.values?.kind === 'ValuesNode'
        ? (node.values as unknown as { values: readonly unknown[] }).values[0]
        : undefined;
    const values = (row as { values?: readonly unknown[] } | undefined)?.values;
    const v = at >= 0 ? values?.[at] : undefined;
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object' && 'value' in v) return String((v as { value: unknown }).value);
    // New executions are created QUEUED (the fan-out's INSERT ... SELECT selects it as a literal).
    return 'QUEUED';
  }
  return undefined;
}

/**
 * A Kysely plugin on the service context's db (like the OutboxSignal's): counts executions by the
 * status a statement moves them to (built statements read from their AST, raw ones marked with
 * COUNTS_STATUS_CHANGES from their result rows), and times outbox rows from their write to the notifier's claim
 * (the notifier claims with UPDATE outbox ... RETURNING, src/notifier/notifier.repository.ts).
 * Counts are taken when the statement runs; a transaction rolled back afterwards is not subtracted.
 */
export function metricsPlugin(m: ServerMetrics, clock: Clock): KyselyPlugin {
  const executions = new WeakMap<QueryId, string>();
  const claims = new WeakSet<QueryId>();
  const rawStatusChanges = new WeakSet<QueryId>();
  return {
    transformQuery: (args: PluginTransformQueryArgs): RootOperationNode => {
      const node = args.node;
      const table =
        node.kind === 'UpdateQueryNode'
          ? tableName(node.table)
          : node.kind === 'InsertQueryNode'
            ? tableName(node.into)
            : undefined;
      if (table === 'job_executions') {
        const status = statusSet(node);
        if (status !== undefined) executions.set(args.queryId, status);
      } else if (node.kind === 'RawNode' && node.sqlFragments[0]?.startsWith(COUNTS_STATUS_CHANGES)) {
        rawStatusChanges.add(args.queryId);
      } else if (table === 'outbox' && node.kind === 'UpdateQueryNode' && node.returning) {
        claims.add(args.queryId);
      }
      return node;
    },
    transformResult: async (args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> => {
      if (rawStatusChanges.has(args.queryId)) {
        rawStatusChanges.delete(args.queryId);
        for (const row of args.result.rows) m.executionStatusChanges.inc({ status: String(row.status) });
        return args.result;
      }
      const status = executions.get(args.queryId);
      if (status !== undefined) {
        executions.delete(args.queryId);
        const n = Number(args.result.numAffectedRows ?? BigInt(args.result.rows.length));
        if (n > 0) m.executionStatusChanges.inc({ status }, n);
      } else if (claims.has(args.queryId)) {
        claims.delete(args.queryId);
        const now = clock.now().getTime();
        for (const row of args.result.rows) {
          const created = Number(row.created_at);
          if (Number.isFinite(created)) m.notifierLag.observe(Math.max(0, now - created) / 1000);
        }
      }
      return args.result;
    },
  };
}

/** `get` wrapped for one protocol, made once per underlying API object. */
export function deviceJobsFor(
  get: () => DeviceJobsApi | undefined,
  protocol: 'mqtt' | 'http',
  m: ServerMetrics,
): () => DeviceJobsApi | undefined {
  const wrapped = new WeakMap<DeviceJobsApi, DeviceJobsApi>();
  return () => {
    const api = get();
    if (!api) return undefined;
    let w = wrapped.get(api);
    if (!w) wrapped.set(api, (w = instrumentDeviceJobs(api, protocol, m)));
    return w;
  };
}

/** The gauges read at each scrape, registered with the server's state (registerStateGauges). */
export const STATE_GAUGES = {
  connectedDevices: 'fleetjobs_mqtt_connected_devices',
  requestsInProgress: 'fleetjobs_mqtt_requests_in_progress',
  requestsWaiting: 'fleetjobs_mqtt_requests_waiting',
  outboxDepth: 'fleetjobs_outbox_depth',
  outboxAge: 'fleetjobs_outbox_oldest_age_seconds',
} as const;

export interface StateSources {
  db: Db;
  clock: Clock;
  connectedDevices: () => number;
  /** The broker's request window (src/protocols/mqtt/request-window.ts). */
  mqttRequests: () => { active: number; queued: number };
}

/** Connected devices, the MQTT request window, and the outbox's depth and age, read at each scrape. */
export function registerStateGauges(m: ServerMetrics, o: StateSources): void {
  m.gauge(STATE_GAUGES.connectedDevices, 'MQTT clients connected to this replica', o.connectedDevices);
  m.gauge(
    STATE_GAUGES.requestsInProgress,
    'MQTT device requests (jobs and streams topics) this replica is working on',
    () => o.mqttRequests().active,
  );
  m.gauge(
    STATE_GAUGES.requestsWaiting,
    'MQTT device requests read but waiting for the request window (their connections are not read meanwhile)',
    () => o.mqttRequests().queued,
  );
  const outbox = () =>
    o.db
      .selectFrom('outbox')
      .select((eb) => [eb.fn.countAll<string | number>().as('n'), eb.fn.min('created_at').as('oldest')])
      .executeTakeFirstOrThrow();
  m.gauge(STATE_GAUGES.outboxDepth, 'Outbox rows (notifications and events) not yet published', async () =>
    Number((await outbox()).n),
  );
  m.gauge(
    STATE_GAUGES.outboxAge,
    'Age of the oldest outbox row not yet published (0 when the outbox is empty)',
    async () => {
      const oldest = (await outbox()).oldest;
      return oldest === null ? 0 : Math.max(0, o.clock.now().getTime() - Number(oldest)) / 1000;
    },
  );
}
