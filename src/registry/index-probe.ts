import { sql, type RawBuilder } from 'kysely';
import type { Dialect } from '../store/database.js';
import { IndexSqlCompiler } from './index-sql.js';
import type { Match, QueryNode } from './index-query.js';

type Sql = RawBuilder<unknown>;

/**
 * The fast path of SearchIndex: a page read in name order from one term's index (the "driver":
 * an equality on an attribute, a static group, a thing type, or connected:true), each candidate
 * checked against the whole query by index probes on its own rows, stopping when the page is
 * full. A page costs the driver entries it walks, not the sets of every term.
 */
export interface Driver {
  /** FROM clause of the driver (alias d) and its condition. */
  from: Sql;
  where: Sql;
  /** The thing-name column of d, in index order under `where`. */
  column: string;
}

export class IndexProbeCompiler {
  private alias = 0;
  private readonly leaves: IndexSqlCompiler;

  constructor(private readonly dialect: Dialect) {
    this.leaves = new IndexSqlCompiler(dialect, {});
  }

  /** Candidate drivers: the positive equality terms of a top-level AND (or the query itself). */
  drivers(node: QueryNode): Driver[] {
    const terms = node.kind === 'and' ? node.children : [node];
    return terms.flatMap((n) => (n.kind === 'term' ? this.driver(n.field, n.match) : []));
  }

  private driver(field: string, match: Match): Driver[] {
    if (field.startsWith('attributes.') && match.kind === 'eq') {
      const name = field.slice('attributes.'.length);
      return [
        {
          from: sql`thing_attributes d`,
          where: sql`d.name = ${name} and d.value = ${match.value}`,
          column: 'd.thing_name',
        },
      ];
    }
    if (field === 'thingGroupNames' && match.kind === 'eq') {
      return [
        {
          from: sql`thing_group_members d`,
          where: sql`d.group_name = ${match.value} and d.dynamic = 0`,
          column: 'd.thing_name',
        },
      ];
    }
    if (field === 'thingTypeName' && match.kind === 'eq') {
      return [{ from: sql`things d`, where: sql`d.thing_type_name = ${match.value}`, column: 'd.name' }];
    }
    if (field === 'connectivity.connected' && match.kind === 'eq' && match.value === 'true') {
      return [{ from: sql`thing_connectivity d`, where: sql`d.connected = 1`, column: 'd.thing_name' }];
    }
    return [];
  }

  /** A predicate over `t` (a row of things): does this thing match? */
  probe(node: QueryNode): Sql {
    switch (node.kind) {
      case 'not':
        return sql`not (${this.probe(node.child)})`;
      case 'and':
      case 'or':
        return sql`(${sql.join(
          node.children.map((c) => this.probe(c)),
          sql.raw(` ${node.kind} `),
        )})`;
      case 'term':
        return this.term(node.field, node.match);
    }
  }

  /**
   * PostgreSQL turns a top-level EXISTS into a semi-join, which may hash the term's whole set
   * per page; OFFSET 0 keeps it a per-row index probe (the planner does not pull such a subquery up).
   */
  private fence(): Sql {
    return this.dialect === 'postgres' ? sql` offset 0` : sql``;
  }

  private term(field: string, match: Match): Sql {
    const a = sql.raw(`p${++this.alias}`);
    if (field.startsWith('attributes.')) {
      const name = field.slice('attributes.'.length);
      const cond =
        match.kind === 'range'
          ? this.leaves.rangeOn(`p${this.alias}.value`, `p${this.alias}.num`, match)
          : this.leaves.matchOn(`p${this.alias}.value`, match);
      return sql`exists (select 1 from thing_attributes ${a} where ${a}.thing_name = t.name and ${a}.name = ${name} and ${cond}${this.fence()})`;
    }
    switch (field) {
      case 'thingName':
        return this.leaves.matchOn('t.name', match);
      case 'thingId':
        return this.leaves.matchOn('t.id', match);
      case 'thingTypeName':
        return this.leaves.matchOn('t.thing_type_name', match);
      case 'thingGroupNames':
        return sql`exists (select 1 from thing_group_members ${a} where ${a}.thing_name = t.name and ${a}.dynamic = 0 and ${this.leaves.matchOn(`p${this.alias}.group_name`, match)}${this.fence()})`;
      case 'connectivity.connected': {
        const connected = sql`exists (select 1 from thing_connectivity ${a} where ${a}.thing_name = t.name and ${a}.connected = 1${this.fence()})`;
        if (match.kind === 'exists') return sql`1 = 1`;
        if (match.kind === 'eq' && match.value === 'true') return connected;
        if (match.kind === 'eq' && match.value === 'false') return sql`not ${connected}`;
        return sql`1 = 0`;
      }
      default:
        // Connectivity terms: the set form of one thing is cheap (its primary key).
        return sql`t.name in (${new IndexSqlCompiler(this.dialect, {}).compile({ kind: 'term', field: field as 'thingName', match })})`;
    }
  }
}
