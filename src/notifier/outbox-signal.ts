import { EventEmitter } from 'node:events';
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely';
import type { QueryId } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';

/** An INSERT INTO outbox, built or raw (the device plane's hot statements are raw SQL, issue 17). */
function writesOutbox(node: RootOperationNode): boolean {
  if (node.kind === 'InsertQueryNode') return node.into?.table.identifier.name === 'outbox';
  if (node.kind === 'RawNode') return /\bINSERT\s+INTO\s+outbox\b/i.test(node.sqlFragments.join(''));
  return false;
}

/** Whether a NOTIFY written by `payload`'s connection wakes the replica named `origin`. */
export function wakesReplica(payload: string | undefined, origin: string | undefined): boolean {
  return origin === undefined || !payload || payload === origin;
}

/**
 * Wakes the notifier right after outbox rows are written, so notifications leave within
 * milliseconds instead of at the next poll. Writers need not know about it: a Kysely plugin on
 * the service context's db sees every INSERT INTO outbox.
 *
 * Why this is "after commit": on SQLite, Kysely serialises all statements over one connection,
 * so the notifier's claim query waits until the writing transaction has committed (or rolled
 * back). On PostgreSQL the claim may run too early and find nothing; there a trigger sends
 * NOTIFY at commit (migration 0021) and `listenPostgres` wakes the notifier then — on every
 * replica. The notifier's slow poll covers anything else.
 */
export class OutboxSignal {
  private readonly emitter = new EventEmitter();
  private readonly pending = new WeakSet<QueryId>();
  private scheduled = false;

  readonly plugin: KyselyPlugin = {
    transformQuery: (args: PluginTransformQueryArgs): RootOperationNode => {
      const node = args.node;
      if (writesOutbox(node)) this.pending.add(args.queryId);
      return node;
    },
    transformResult: async (args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> => {
      if (this.pending.has(args.queryId)) {
        this.pending.delete(args.queryId);
        this.wake();
      }
      return args.result;
    },
  };

  /** Coalesces a burst of writes into one wake-up. */
  wake(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.emitter.emit('wake');
    });
  }

  onWake(listener: () => void): () => void {
    this.emitter.on('wake', listener);
    return () => this.emitter.off('wake', listener);
  }

  /**
   * LISTEN on PostgreSQL for the commit-time NOTIFY; reconnects until stopped. Each NOTIFY
   * carries the writing connection's application_name (migration 0092): with `origin`, only this
   * replica's own commits (and writers without a name) wake it. Another replica's rows are its
   * own notifier's to announce; this one takes them at its poll once they have waited (the
   * notifier's affinity), so replicas do not split each other's batches on every commit.
   */
  listenPostgres(url: string, logger: Logger, origin?: string): () => Promise<void> {
    let client: pg.Client | undefined;
    let stopped = false;
    let retry: NodeJS.Timeout | undefined;
    const connect = (): void => {
      const c = new pg.Client({ connectionString: url });
      client = c;
      c.on('notification', (msg) => {
        if (wakesReplica(msg.payload, origin)) this.wake();
      });
      c.on('error', (err) => {
        logger.warn({ err }, 'outbox LISTEN connection lost; polling until it is back');
        void c.end().catch(() => undefined);
        if (!stopped) retry = setTimeout(connect, 1000);
      });
      c.connect()
        .then(() => c.query('LISTEN fleetjobs_outbox'))
        .then(() => this.wake())
        .catch((err: unknown) => c.emit('error', err));
    };
    connect();
    return async () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => undefined);
    };
  }
}
