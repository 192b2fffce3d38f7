import { sql } from 'kysely';
import { ServiceError } from '../errors.js';
import type { ServiceContext } from '../context.js';
import type { Executor } from '../store/database.js';
import { decodeToken, encodeToken } from '../store/pagination.js';
import { validate, type Validator } from '../validation.js';
import { IndexProbeCompiler, type Driver } from './index-probe.js';
import { IndexSqlCompiler, type Restriction } from './index-sql.js';
import { MAX_QUERY_LENGTH, parseIndexQuery, type QueryNode } from './index-query.js';

export const THING_INDEXING_MODES = ['OFF', 'REGISTRY', 'REGISTRY_AND_SHADOW'] as const;
export const CONNECTIVITY_INDEXING_MODES = ['OFF', 'STATUS'] as const;
export const GROUP_INDEXING_MODES = ['OFF', 'ON'] as const;
export const THINGS_INDEX = 'AWS_Things';
/** AWS: SearchIndex returns at most 100 things a page. */
const MAX_SEARCH_RESULTS = 100;

export interface IndexingConfiguration {
  thingIndexingConfiguration: {
    thingIndexingMode: (typeof THING_INDEXING_MODES)[number];
    thingConnectivityIndexingMode?: (typeof CONNECTIVITY_INDEXING_MODES)[number];
  };
  thingGroupIndexingConfiguration: { thingGroupIndexingMode: (typeof GROUP_INDEXING_MODES)[number] };
}

/** AWS's default: fleet indexing is off until UpdateIndexingConfiguration turns it on. */
const DEFAULT_CONFIG: IndexingConfiguration = {
  thingIndexingConfiguration: { thingIndexingMode: 'OFF', thingConnectivityIndexingMode: 'OFF' },
  thingGroupIndexingConfiguration: { thingGroupIndexingMode: 'OFF' },
};

function checkConfig(v: Validator, input: Record<string, unknown>): void {
  const things = input.thingIndexingConfiguration;
  if (v.object('thingIndexingConfiguration', things)) {
    if (v.required('thingIndexingConfiguration.thingIndexingMode', things.thingIndexingMode)) {
      v.string('thingIndexingConfiguration.thingIndexingMode', things.thingIndexingMode, {
        enum: THING_INDEXING_MODES,
      });
    }
    v.string('thingIndexingConfiguration.thingConnectivityIndexingMode', things.thingConnectivityIndexingMode, {
      enum: CONNECTIVITY_INDEXING_MODES,
    });
  }
  const groups = input.thingGroupIndexingConfiguration;
  if (v.object('thingGroupIndexingConfiguration', groups)) {
    if (v.required('thingGroupIndexingConfiguration.thingGroupIndexingMode', groups.thingGroupIndexingMode)) {
      v.string('thingGroupIndexingConfiguration.thingGroupIndexingMode', groups.thingGroupIndexingMode, {
        enum: GROUP_INDEXING_MODES,
      });
    }
  }
}

export function checkQuery(v: Validator, field: string, value: unknown, required = true): void {
  if (required && !v.required(field, value)) return;
  v.string(field, value, { min: 1, max: MAX_QUERY_LENGTH });
}

const parseJson = <T>(text: string): T => JSON.parse(text) as T;

/** How far the driver choice counts each candidate term's entries. */
const DRIVER_COUNT_LIMIT = 5000;

interface SearchRow {
  name: string;
  id: string;
  thing_type_name: string | null;
  attributes: string;
  connected: number | null;
  timestamp: number | null;
  disconnect_reason: string | null;
}

/** Fleet indexing (issue 19): the configuration, SearchIndex and GetStatistics over AWS_Things. */
export class IndexingService {
  constructor(private readonly ctx: ServiceContext) {}

  async getIndexingConfiguration(db: Executor = this.ctx.db): Promise<IndexingConfiguration> {
    const row = await db.selectFrom('indexing_config').select('config').where('id', '=', 1).executeTakeFirst();
    return row ? parseJson<IndexingConfiguration>(row.config) : DEFAULT_CONFIG;
  }

  async updateIndexingConfiguration(input: Record<string, unknown>): Promise<void> {
    validate((v) => checkConfig(v, input));
    await this.ctx.db.transaction().execute(async (trx) => {
      const current = await this.getIndexingConfiguration(trx);
      const things = input.thingIndexingConfiguration as
        IndexingConfiguration['thingIndexingConfiguration'] | undefined;
      const groups = input.thingGroupIndexingConfiguration as
        IndexingConfiguration['thingGroupIndexingConfiguration'] | undefined;
      const next: IndexingConfiguration = {
        thingIndexingConfiguration: things
          ? {
              thingIndexingMode: things.thingIndexingMode,
              thingConnectivityIndexingMode: things.thingConnectivityIndexingMode ?? 'OFF',
            }
          : current.thingIndexingConfiguration,
        thingGroupIndexingConfiguration: groups
          ? { thingGroupIndexingMode: groups.thingGroupIndexingMode }
          : current.thingGroupIndexingConfiguration,
      };
      const values = { id: 1, config: JSON.stringify(next), updated_at: this.ctx.clock.now().getTime() };
      await trx
        .insertInto('indexing_config')
        .values(values)
        .onConflict((oc) => oc.column('id').doUpdateSet({ config: values.config, updated_at: values.updated_at }))
        .execute();
    });
  }

  /** The thing index must be on (AWS answers IndexNotReady / ResourceNotFound otherwise). */
  async requireThingIndex(db: Executor, indexName: string | undefined): Promise<IndexingConfiguration> {
    if (indexName !== undefined && indexName !== THINGS_INDEX) {
      throw new ServiceError(
        'ResourceNotFound',
        `Index ${indexName} does not exist; this server indexes ${THINGS_INDEX}.`,
      );
    }
    const config = await this.getIndexingConfiguration(db);
    if (config.thingIndexingConfiguration.thingIndexingMode === 'OFF') {
      throw new ServiceError(
        'IndexNotReady',
        `Fleet indexing is off; turn it on with UpdateIndexingConfiguration (thingIndexingMode REGISTRY).`,
      );
    }
    return config;
  }

  /** The matching names as a SELECT of column `n` (dynamic groups insert from it). */
  compile(query: QueryNode, restriction: Restriction = {}) {
    return new IndexSqlCompiler(this.ctx.dialect, restriction).compile(query);
  }

  async searchIndex(input: {
    indexName?: string;
    queryString?: string;
    nextToken?: string;
    maxResults?: number;
    queryVersion?: string;
  }) {
    validate((v) => {
      checkQuery(v, 'queryString', input.queryString);
      v.string('indexName', input.indexName, { min: 1, max: 128 });
      v.number('maxResults', input.maxResults, { min: 1, max: MAX_SEARCH_RESULTS, integer: true });
    });
    const config = await this.requireThingIndex(this.ctx.db, input.indexName);
    const query = parseIndexQuery(input.queryString!);
    const limit = input.maxResults ?? MAX_SEARCH_RESULTS;
    const after = decodeToken(input.nextToken, 1)?.[0];
    const rows = await this.searchRows(query, after === undefined ? undefined : String(after), limit + 1);
    const page = rows.slice(0, limit);
    const groups = await this.staticGroupsOf(page.map((r) => r.name));
    const withConnectivity = config.thingIndexingConfiguration.thingConnectivityIndexingMode === 'STATUS';
    return {
      things: page.map((r) => ({
        thingName: r.name,
        thingId: r.id,
        ...(r.thing_type_name !== null && { thingTypeName: r.thing_type_name }),
        ...(groups.has(r.name) && { thingGroupNames: groups.get(r.name) }),
        attributes: parseJson<Record<string, string>>(r.attributes),
        ...(withConnectivity && {
          connectivity: {
            connected: r.connected === 1,
            ...(r.timestamp !== null && { timestamp: Number(r.timestamp) }),
            ...(r.connected === 0 && r.disconnect_reason !== null && { disconnectReason: r.disconnect_reason }),
          },
        }),
      })),
      thingGroups: [],
      ...(rows.length > limit && { nextToken: encodeToken([page[page.length - 1]!.name]) }),
    };
  }

  /**
   * One page of matching things in name order. With an equality term to drive from, the page
   * walks that term's index and probes the rest (index-probe.ts); the driver is the term with
   * the fewest entries after the page start, counted up to DRIVER_COUNT_LIMIT. Otherwise the
   * query runs as set operations over its terms (index-sql.ts).
   */
  private async searchRows(query: QueryNode, after: string | undefined, limit: number): Promise<SearchRow[]> {
    const columns = sql`t.name, t.id, t.thing_type_name, t.attributes, c.connected, c.timestamp, c.disconnect_reason`;
    const probe = new IndexProbeCompiler(this.ctx.dialect);
    const drivers = probe.drivers(query);
    if (drivers.length === 0) {
      const names = this.compile(query, after === undefined ? {} : { after });
      const { rows } = await sql<SearchRow>`select ${columns}
        from things t left join thing_connectivity c on c.thing_name = t.name
        where t.name in (${names}) order by t.name limit ${limit}`.execute(this.ctx.db);
      return rows;
    }
    const from = (d: Driver) => (after === undefined ? sql`` : sql` and ${sql.ref(d.column)} > ${after}`);
    let best = drivers[0]!;
    if (drivers.length > 1) {
      let fewest = Infinity;
      for (const d of drivers) {
        const { rows } = await sql<{ n: number }>`select count(*) as n from (select 1 as x from ${d.from}
          where ${d.where}${from(d)} limit ${DRIVER_COUNT_LIMIT}) as k`.execute(this.ctx.db);
        const n = Number(rows[0]?.n ?? 0);
        if (n < fewest) [fewest, best] = [n, d];
      }
    }
    // CROSS JOIN keeps SQLite walking the driver's index in order; PostgreSQL's LIMIT does the same.
    const { rows } = await sql<SearchRow>`select ${columns}
      from ${best.from} cross join things t left join thing_connectivity c on c.thing_name = t.name
      where ${best.where}${from(best)} and t.name = ${sql.ref(best.column)} and ${probe.probe(query)}
      order by ${sql.ref(best.column)} limit ${limit}`.execute(this.ctx.db);
    return rows;
  }

  private async staticGroupsOf(names: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (names.length === 0) return out;
    const rows = await this.ctx.db
      .selectFrom('thing_group_members')
      .select(['thing_name', 'group_name'])
      .where('thing_name', 'in', names)
      .where('dynamic', '=', 0)
      .orderBy('group_name')
      .execute();
    for (const r of rows) out.set(r.thing_name, [...(out.get(r.thing_name) ?? []), r.group_name]);
    return out;
  }

  /** GetStatistics: the count of matches; for attributes.<name>, also the numeric statistics. */
  async getStatistics(input: { indexName?: string; queryString?: string; aggregationField?: string }) {
    validate((v) => {
      checkQuery(v, 'queryString', input.queryString);
      v.string('aggregationField', input.aggregationField, { min: 1, max: 128 });
    });
    await this.requireThingIndex(this.ctx.db, input.indexName);
    const names = this.compile(parseIndexQuery(input.queryString!));
    const field = input.aggregationField;
    if (field === undefined || !field.startsWith('attributes.')) {
      const { rows } = await sql<{ count: number }>`select count(*) as count from (${names}) as m`.execute(this.ctx.db);
      return { statistics: { count: Number(rows[0]?.count ?? 0) } };
    }
    const { rows } = await sql<{ count: number; sum: number | null; mn: number | null; mx: number | null }>`
      select count(num) as count, sum(num) as sum, min(num) as mn, max(num) as mx from thing_attributes
      where name = ${field.slice('attributes.'.length)} and num is not null and thing_name in (${names})`.execute(
      this.ctx.db,
    );
    const r = rows[0];
    const count = Number(r?.count ?? 0);
    const sum = Number(r?.sum ?? 0);
    return {
      statistics: {
        count,
        ...(count > 0 && { sum, average: sum / count, minimum: Number(r!.mn), maximum: Number(r!.mx) }),
      },
    };
  }
}
