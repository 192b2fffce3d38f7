import type { Writable } from 'node:stream';
import { UsageError } from './exit-codes.js';

/** Tables for people, `--output json` for scripts (README "The fleetjobs CLI"). */
export const OUTPUT_FORMATS = ['table', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function parseOutputFormat(value: string | undefined): OutputFormat {
  const v = value ?? 'table';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(v)) {
    throw new UsageError(`--output '${v}' must be one of ${OUTPUT_FORMATS.join(', ')}`);
  }
  return v as OutputFormat;
}

/** What the SDK returns, made plain: no $metadata, Dates as ISO strings, byte arrays as base64. */
export function plain(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === '$metadata' || v === undefined) continue;
      out[k] = plain(v);
    }
    return out;
  }
  return value;
}

export interface Column<T> {
  header: string;
  get: (row: T) => unknown;
}

export function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (v instanceof Date) return v.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (typeof v === 'object') return JSON.stringify(plain(v));
  return String(v);
}

/** Left-aligned columns separated by two spaces; the header in capitals. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const matrix = [columns.map((c) => c.header.toUpperCase()), ...rows.map((r) => columns.map((c) => cell(c.get(r))))];
  const widths = columns.map((_, i) => Math.max(...matrix.map((line) => line[i]!.length)));
  return matrix
    .map((line) =>
      line
        .map((v, i) => (i === line.length - 1 ? v : v.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `key: value` lines for one object; nested objects as compact JSON. */
export function renderFields(obj: Record<string, unknown>): string {
  const entries = Object.entries(obj).filter(([k, v]) => k !== '$metadata' && v !== undefined);
  const width = Math.max(0, ...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${cell(v)}`).join('\n');
}

export class Output {
  constructor(
    private readonly out: Writable,
    private readonly err: Writable,
    readonly format: OutputFormat,
  ) {}

  get json(): boolean {
    return this.format === 'json';
  }

  write(text: string): void {
    this.out.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Messages for people (progress, hints): on stderr, so stdout stays parseable. */
  note(text: string): void {
    this.err.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** A result: JSON as is, or rendered for people by `human`. */
  result(value: unknown, human: () => string): void {
    if (this.json) this.write(JSON.stringify(plain(value), null, 2));
    else {
      const text = human();
      if (text !== '') this.write(text);
    }
  }

  /** A list: JSON `{<key>: [...], nextToken?}` or a table. */
  list<T>(key: string, rows: readonly T[], columns: readonly Column<T>[], extra: Record<string, unknown> = {}): void {
    this.result({ [key]: rows, ...extra }, () =>
      rows.length === 0 ? `(no ${key.replace(/([A-Z])/g, ' $1').toLowerCase()})` : renderTable(rows, columns),
    );
  }

  /** One object: JSON or `key: value` lines. */
  object(value: Record<string, unknown>): void {
    this.result(value, () => renderFields(value));
  }
}
