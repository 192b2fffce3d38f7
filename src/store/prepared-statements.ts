import { createHash } from 'node:crypto';
import pg from 'pg';

/**
 * Ends a raw PostgreSQL statement whose text never changes (its inputs are arrays or JSON
 * parameters), so each pool connection parses and plans it once, as a named prepared statement,
 * instead of at every call (issue 17: the device plane's batched reads and write run hundreds of
 * times a second; parse and plan were 0.1-0.7 ms of each). Only such statements may carry it: a
 * connection keeps every name it prepared until it closes.
 */
export const PREPARED = '/* fleetjobs: prepared */';

const names = new Map<string, string>();

function nameOf(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `fleetjobs_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * The pool's client class: Kysely's PostgreSQL driver calls `query(text, values)`; texts ending
 * in PREPARED go out as `{ name, text, values }`, which node-postgres prepares once per
 * connection and then only binds and executes.
 */
export class PreparingClient extends pg.Client {
  // node-postgres' query() has many overloads; this one forwards all of them untouched but one.
  override query(...args: unknown[]): never {
    const [text, values] = args;
    if (typeof text === 'string' && text.endsWith(PREPARED) && (args.length === 2 || args.length === 1)) {
      return (super.query as unknown as (config: pg.QueryConfig) => never)({
        name: nameOf(text),
        text,
        values: (values ?? []) as unknown[],
      });
    }
    return (super.query as unknown as (...a: unknown[]) => never)(...args);
  }
}
