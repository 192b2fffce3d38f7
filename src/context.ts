import type { Logger } from 'pino';
import type { Arns } from './arns.js';
import type { Clock } from './clock.js';
import type { Db, Dialect } from './store/database.js';

/** What every service is built from (the composition root in server.ts makes one). */
export interface ServiceContext {
  db: Db;
  dialect: Dialect;
  clock: Clock;
  arns: Arns;
  logger: Logger;
}
