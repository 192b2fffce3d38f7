import { sql, type Transaction } from 'kysely';
import type { Database, Db, Dialect } from './database.js';

type Work<T> = (trx: Transaction<Database>) => Promise<T>;

interface Pending {
  work: Work<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** Outcome of one unit of work inside a batch, settled only after the batch commits. */
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit for small, independent transactions (issue 17): on SQLite every commit is an
 * fsync on the one connection (synchronous=FULL), and better-sqlite3 blocks the event loop for
 * it, so a thousand devices reporting at once spend most of their time waiting on a thousand
 * fsyncs. Units of work that arrive while a batch is being written wait and then run together in
 * the next transaction, one SAVEPOINT each:
 * - each unit sees the writes of the units before it, exactly as if they had committed one after
 *   the other (they run in arrival order on the same connection);
 * - a unit that throws is rolled back to its savepoint alone and gets its own error;
 * - nobody hears "done" before the COMMIT that makes their writes durable; if the COMMIT (or a
 *   savepoint rollback) fails, every unit of the batch gets the error and nothing was written.
 * A batch starts at the end of the event-loop turn in which its first unit arrived: the only delay
 * batching adds is the rest of that turn.
 *
 * On PostgreSQL units run as transactions of their own: the pool gives them concurrency, and
 * units of two batches holding row locks could deadlock each other.
 */
export class TransactionBatcher {
  private queue: Pending[] = [];
  private running = false;

  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
    private readonly maxBatch = 256,
  ) {}

  run<T>(work: Work<T>): Promise<T> {
    if (this.dialect !== 'sqlite') return this.db.transaction().execute(work);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.running) return;
      this.running = true;
      // better-sqlite3 is synchronous, so a whole transaction runs within one turn of the event
      // loop and no other request could ever join it. Waiting for the end of this turn lets every
      // request already read off the sockets queue up behind this one.
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        await this.runBatch(batch);
      }
    } finally {
      this.running = false;
    }
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = batch.length === 1 ? [await this.runAlone(batch[0]!)] : await this.runTogether(batch);
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    outcomes.forEach((o, i) => (o.ok ? batch[i]!.resolve(o.value) : batch[i]!.reject(o.error)));
  }

  /** A lone unit needs no savepoint: its transaction is its own. */
  private async runAlone(p: Pending): Promise<Outcome> {
    try {
      return { ok: true, value: await this.db.transaction().execute(p.work) };
    } catch (error) {
      return { ok: false, error };
    }
  }

  private runTogether(batch: Pending[]): Promise<Outcome[]> {
    return this.db.transaction().execute(async (trx) => {
      const outcomes: Outcome[] = [];
      for (const p of batch) {
        await sql`SAVEPOINT batch_unit`.execute(trx);
        try {
          const value = await p.work(trx);
          await sql`RELEASE SAVEPOINT batch_unit`.execute(trx);
          outcomes.push({ ok: true, value });
        } catch (error) {
          // If SQLite already rolled the whole transaction back (SQLITE_FULL, IOERR), this throws
          // and the batch fails as a whole: no unit is told it succeeded.
          await sql`ROLLBACK TO SAVEPOINT batch_unit`.execute(trx);
          await sql`RELEASE SAVEPOINT batch_unit`.execute(trx);
          outcomes.push({ ok: false, error });
        }
      }
      return outcomes;
    });
  }
}
