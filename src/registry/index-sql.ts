import { sql, type RawBuilder } from 'kysely';
import type { Dialect } from '../store/database.js';
import type { Bound, Match, QueryNode } from './index-query.js';

/**
 * Compiles a fleet-index query to SQL over the registry tables: each term is a set of thing
 * names read through an index (things by name / id / type, thing_attributes by (name, value) or
 * (name, num), static group members, connectivity), and AND / OR / NOT are INTERSECT / UNION /
 * EXCEPT of those sets. Every term carries the page's restriction (names after the last one, or
 * one thing for a dynamic group's check), so a page costs what its matching rows cost, not the
 * fleet. Only a query of negations alone (NOT x) reads the whole fleet's names.
 */
export interface Restriction {
  /** Keyset: names strictly after this. */
  after?: string;
  /** Only this thing (does it match?). */
  thing?: string;
}

type Sql = RawBuilder<unknown>;

const NUMBER = /^-?\d+(\.\d+)?$/;

export class IndexSqlCompiler {
  private alias = 0;

  constructor(
    private readonly dialect: Dialect,
    private readonly r: Restriction,
  ) {}

  /** A SELECT of the matching thing names, as column `n`. */
  compile(node: QueryNode): Sql {
    switch (node.kind) {
      case 'term':
        return this.term(node.field, node.match);
      case 'not':
        return this.combine('except', [this.universe(), this.compile(node.child)]);
      case 'or':
        return this.combine(
          'union',
          node.children.map((c) => this.compile(c)),
        );
      case 'and': {
        const positive = node.children.filter((c) => c.kind !== 'not');
        const negative = node.children.flatMap((c) => (c.kind === 'not' ? [c.child] : []));
        const base =
          positive.length === 0
            ? this.universe()
            : this.combine(
                'intersect',
                positive.map((c) => this.compile(c)),
              );
        if (negative.length === 0) return base;
        return this.combine('except', [
          base,
          this.combine(
            'union',
            negative.map((c) => this.compile(c)),
          ),
        ]);
      }
    }
  }

  /** Each operand in its own derived table, so SQLite (no precedence, no parentheses) and PostgreSQL agree. */
  private combine(op: 'union' | 'intersect' | 'except', parts: Sql[]): Sql {
    if (parts.length === 1) return parts[0]!;
    const keyword = sql.raw(` ${op} `);
    return sql.join(
      parts.map((p) => sql`select n from (${p}) as ${sql.raw(`s${++this.alias}`)}`),
      keyword,
    );
  }

  private restrict(column: string): Sql {
    const col = sql.ref(column);
    if (this.r.thing !== undefined) return sql` and ${col} = ${this.r.thing}`;
    if (this.r.after !== undefined) return sql` and ${col} > ${this.r.after}`;
    return sql``;
  }

  private universe(): Sql {
    return sql`select name as n from things where 1 = 1${this.restrict('name')}`;
  }

  private term(field: string, match: Match): Sql {
    if (field.startsWith('attributes.')) {
      const name = field.slice('attributes.'.length);
      const cond = match.kind === 'range' ? this.rangeOn('value', 'num', match) : this.matchOn('value', match);
      return sql`select thing_name as n from thing_attributes where name = ${name} and ${cond}${this.restrict('thing_name')}`;
    }
    switch (field) {
      case 'thingName':
        return sql`select name as n from things where ${this.matchOn('name', match)}${this.restrict('name')}`;
      case 'thingId':
        return sql`select name as n from things where ${this.matchOn('id', match)}${this.restrict('name')}`;
      case 'thingTypeName':
        return sql`select name as n from things where ${this.matchOn('thing_type_name', match)}${this.restrict('name')}`;
      case 'thingGroupNames':
        // Static groups only: a dynamic group's members follow queries, not other dynamic groups.
        return sql`select thing_name as n from thing_group_members where dynamic = 0 and ${this.matchOn('group_name', match)}${this.restrict('thing_name')}`;
      case 'connectivity.connected': {
        const connected = sql`select thing_name as n from thing_connectivity where connected = 1${this.restrict('thing_name')}`;
        if (match.kind === 'exists') return this.universe();
        if (match.kind !== 'eq' || (match.value !== 'true' && match.value !== 'false')) {
          return sql`select name as n from things where 1 = 0`;
        }
        // A thing that never connected is disconnected.
        return match.value === 'true' ? connected : this.combine('except', [this.universe(), connected]);
      }
      case 'connectivity.timestamp': {
        // Milliseconds since the epoch: only numbers mean anything here.
        const range =
          match.kind === 'eq' && NUMBER.test(match.value)
            ? {
                kind: 'range' as const,
                lower: { value: match.value, inclusive: true },
                upper: { value: match.value, inclusive: true },
              }
            : match;
        if (range.kind === 'exists')
          return sql`select thing_name as n from thing_connectivity where 1 = 1${this.restrict('thing_name')}`;
        if (
          range.kind !== 'range' ||
          ![range.lower, range.upper].every((b) => b === undefined || NUMBER.test(b.value))
        ) {
          return sql`select name as n from things where 1 = 0`;
        }
        return sql`select thing_name as n from thing_connectivity where ${this.rangeOn('timestamp', 'timestamp', range)}${this.restrict('thing_name')}`;
      }
      default: // connectivity.disconnectReason
        return sql`select thing_name as n from thing_connectivity where connected = 0 and ${this.matchOn('disconnect_reason', match)}${this.restrict('thing_name')}`;
    }
  }

  matchOn(column: string, match: Match): Sql {
    const col = sql.ref(column);
    switch (match.kind) {
      case 'exists':
        return sql`${col} is not null`;
      case 'eq':
        return sql`${col} = ${match.value}`;
      case 'range':
        return this.rangeOn(column, column, match);
      case 'wildcard': {
        // The literal prefix narrows the index range; the pattern checks the rest.
        const prefix =
          match.prefix === '' ? sql`1 = 1` : sql`${col} >= ${match.prefix} and ${col} < ${`${match.prefix}\uffff`}`;
        if (/^[^*?]*\*$/.test(match.pattern)) return prefix;
        return sql`${prefix} and ${this.pattern(col, match.pattern)}`;
      }
    }
  }

  /** Case-sensitive wildcard match: GLOB on SQLite (LIKE ignores ASCII case there), LIKE on PostgreSQL. */
  private pattern(col: Sql, pattern: string): Sql {
    if (this.dialect === 'sqlite') {
      return sql`${col} glob ${pattern.replace(/\[/g, '[[]')}`;
    }
    const like = pattern
      .replace(/[\\%_]/g, (c) => `\\${c}`)
      .replace(/\*/g, '%')
      .replace(/\?/g, '_');
    return sql`${col} like ${like}`;
  }

  /** Numbers compare as numbers (the num column), anything else as text. */
  rangeOn(textColumn: string, numColumn: string, match: Extract<Match, { kind: 'range' }>): Sql {
    const bounds = [match.lower, match.upper].filter((b): b is Bound => b !== undefined);
    const numeric = bounds.every((b) => NUMBER.test(b.value));
    const col = sql.ref(numeric ? numColumn : textColumn);
    const value = (b: Bound): Sql => (numeric ? sql`${Number(b.value)}` : sql`${b.value}`);
    const parts: Sql[] = [numeric ? sql`${col} is not null` : sql`1 = 1`];
    if (match.lower)
      parts.push(match.lower.inclusive ? sql`${col} >= ${value(match.lower)}` : sql`${col} > ${value(match.lower)}`);
    if (match.upper)
      parts.push(match.upper.inclusive ? sql`${col} <= ${value(match.upper)}` : sql`${col} < ${value(match.upper)}`);
    return sql.join(parts, sql` and `);
  }
}
