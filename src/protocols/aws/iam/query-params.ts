import { ServiceError } from '../../../errors.js';

/** AWS query protocol input (form-encoded Action=...&Version=...), with `.member.N` lists. */
export class QueryInput {
  constructor(private readonly params: URLSearchParams) {}

  static parse(body: Buffer | undefined, rawQuery: string): QueryInput {
    const merged = new URLSearchParams(rawQuery);
    if (body && body.length > 0) for (const [k, v] of new URLSearchParams(body.toString('utf8'))) merged.set(k, v);
    return new QueryInput(merged);
  }

  string(name: string): string | undefined {
    return this.params.get(name) ?? undefined;
  }

  int(name: string): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    if (!/^-?\d+$/.test(raw)) {
      throw new ServiceError('InvalidRequest', `Value '${raw}' for ${name} is not an integer.`);
    }
    return Number(raw);
  }

  bool(name: string): boolean | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    if (raw !== 'true' && raw !== 'false') {
      throw new ServiceError('InvalidRequest', `Value '${raw}' for ${name} must be true or false.`);
    }
    return raw === 'true';
  }

  /** `Tags.member.1.Key=a&Tags.member.1.Value=b` -> [{Key: 'a', Value: 'b'}]. */
  structList(name: string, fields: readonly string[]): Record<string, string>[] | undefined {
    const out: Record<string, string>[] = [];
    for (let i = 1; ; i++) {
      const item: Record<string, string> = {};
      for (const f of fields) {
        const v = this.string(`${name}.member.${i}.${f}`);
        if (v !== undefined) item[f] = v;
      }
      if (Object.keys(item).length === 0) break;
      out.push(item);
    }
    return out.length > 0 || this.params.has(name) ? out : undefined;
  }
}
