import { ServiceError } from '../errors.js';

/**
 * The fleet-index query language subset (AWS IoT "Query syntax"): `field:value` terms joined by
 * AND / OR / NOT (a space is AND) and parentheses; `*` and `?` wildcards in values;
 * `field<v`, `<=`, `>`, `>=`, and `field:[a TO b]` (inclusive) or `{a TO b}` (exclusive) ranges;
 * `field:*` says the field exists. Fields: thingName, thingId, thingTypeName, thingGroupNames,
 * attributes.<name>, connectivity.connected, connectivity.timestamp, connectivity.disconnectReason.
 */
export const INDEX_FIELDS = [
  'thingName',
  'thingId',
  'thingTypeName',
  'thingGroupNames',
  'connectivity.connected',
  'connectivity.timestamp',
  'connectivity.disconnectReason',
] as const;
export type IndexField = (typeof INDEX_FIELDS)[number] | `attributes.${string}`;

export type Match =
  | { kind: 'eq'; value: string }
  /** `*` and `?` wildcards; `prefix` is the literal text before the first one. */
  | { kind: 'wildcard'; pattern: string; prefix: string }
  | { kind: 'exists' }
  | { kind: 'range'; lower?: Bound; upper?: Bound };

export interface Bound {
  value: string;
  inclusive: boolean;
}

export type QueryNode =
  | { kind: 'term'; field: IndexField; match: Match }
  | { kind: 'not'; child: QueryNode }
  | { kind: 'and' | 'or'; children: QueryNode[] };

export const MAX_QUERY_LENGTH = 1000;

const invalid = (why: string): ServiceError => new ServiceError('InvalidQuery', `Invalid query string: ${why}`);

/** Words, quoted strings and parentheses; a quoted string keeps its spaces and has no wildcards. */
function tokenize(query: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < query.length) {
    const c = query[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push(c);
      i++;
    } else {
      let word = '';
      while (i < query.length && !/\s/.test(query[i]!) && query[i] !== '(' && query[i] !== ')') {
        if (query[i] === '"') {
          const end = query.indexOf('"', i + 1);
          if (end === -1) throw invalid('an unterminated quoted value');
          word += query.slice(i, end + 1);
          i = end + 1;
        } else {
          word += query[i];
          i++;
        }
      }
      tokens.push(word);
    }
  }
  return tokens;
}

function checkField(field: string): IndexField {
  if ((INDEX_FIELDS as readonly string[]).includes(field)) return field as IndexField;
  if (/^attributes\.[a-zA-Z0-9_.,@/:#-]+$/.test(field)) return field as IndexField;
  throw invalid(`the field '${field}' is not indexed (use ${INDEX_FIELDS.join(', ')} or attributes.<name>).`);
}

function literal(raw: string): { text: string; quoted: boolean } {
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) return { text: raw.slice(1, -1), quoted: true };
  if (raw.includes('"')) throw invalid(`a stray quote in '${raw}'`);
  return { text: raw, quoted: false };
}

function valueMatch(raw: string): Match {
  if (raw === '') throw invalid('a term without a value');
  const { text, quoted } = literal(raw);
  if (!quoted && text === '*') return { kind: 'exists' };
  const first = quoted ? -1 : text.search(/[*?]/);
  if (first === -1) return { kind: 'eq', value: text };
  return { kind: 'wildcard', pattern: text, prefix: text.slice(0, first) };
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: string[]) {}

  parse(): QueryNode {
    if (this.tokens.length === 0) throw invalid('the query is empty.');
    const node = this.or();
    if (this.pos < this.tokens.length) throw invalid(`unexpected '${this.tokens[this.pos]}'.`);
    return node;
  }

  private peek(): string | undefined {
    return this.tokens[this.pos];
  }

  private or(): QueryNode {
    const children = [this.and()];
    while (this.peek() === 'OR') {
      this.pos++;
      children.push(this.and());
    }
    return children.length === 1 ? children[0]! : { kind: 'or', children };
  }

  private and(): QueryNode {
    const children = [this.unary()];
    for (;;) {
      const next = this.peek();
      if (next === 'AND') {
        this.pos++;
        children.push(this.unary());
      } else if (next !== undefined && next !== 'OR' && next !== ')') {
        children.push(this.unary());
      } else break;
    }
    return children.length === 1 ? children[0]! : { kind: 'and', children };
  }

  private unary(): QueryNode {
    const token = this.peek();
    if (token === undefined) throw invalid('the query ends where a term belongs.');
    if (token === 'NOT') {
      this.pos++;
      return { kind: 'not', child: this.unary() };
    }
    if (token === '(') {
      this.pos++;
      const inner = this.or();
      if (this.peek() !== ')') throw invalid("a '(' without its ')'.");
      this.pos++;
      return inner;
    }
    if (token === ')' || token === 'AND' || token === 'OR') throw invalid(`unexpected '${token}'.`);
    this.pos++;
    return this.term(token);
  }

  private term(word: string): QueryNode {
    const m = /^([^:<>]+)(:|<=|>=|<|>)(.*)$/.exec(word);
    if (!m) throw invalid(`'${word}' is not a field:value term.`);
    const field = checkField(m[1]!);
    const op = m[2]!;
    const rest = m[3]!;
    if (op !== ':') {
      const { text } = literal(rest);
      if (text === '') throw invalid(`'${word}' has no value.`);
      const bound = { value: text, inclusive: op.endsWith('=') };
      const match: Match = op.startsWith('<') ? { kind: 'range', upper: bound } : { kind: 'range', lower: bound };
      return { kind: 'term', field, match };
    }
    if (rest.startsWith('[') || rest.startsWith('{')) return { kind: 'term', field, match: this.range(rest) };
    return { kind: 'term', field, match: valueMatch(rest) };
  }

  /** `[a TO b]` spans three words: `field:[a`, `TO`, `b]`. `*` leaves a side open. */
  private range(first: string): Match {
    const to = this.tokens[this.pos];
    const last = this.tokens[this.pos + 1];
    if (to !== 'TO' || last === undefined || !/[\]}]$/.test(last)) throw invalid(`a range is written [a TO b].`);
    this.pos += 2;
    const lower = literal(first.slice(1)).text;
    const upper = literal(last.slice(0, -1)).text;
    if (lower === '' || upper === '') throw invalid('a range needs both ends (use * for an open end).');
    return {
      kind: 'range',
      ...(lower !== '*' && { lower: { value: lower, inclusive: first.startsWith('[') } }),
      ...(upper !== '*' && { upper: { value: upper, inclusive: last.endsWith(']') } }),
    };
  }
}

export function parseIndexQuery(query: string): QueryNode {
  if (query.length > MAX_QUERY_LENGTH) throw invalid(`the query is longer than ${MAX_QUERY_LENGTH} characters.`);
  return new Parser(tokenize(query)).parse();
}
