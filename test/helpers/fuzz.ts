import * as iotModel from '@aws-sdk/client-iot';
import * as dataModel from '@aws-sdk/client-iot-jobs-data-plane';
import * as signerModel from '@aws-sdk/client-signer';

/** A seeded PRNG (mulberry32): the same seed replays the same requests. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const ALPHABET = 'abcXYZ019_-:.@/ %+é😀\u0000\n\t"\\<>&{}[]$#*?';

export function fuzzString(r: Rng, max = 40): string {
  const n = r.chance(0.05) ? r.int(20_000) : r.int(max);
  if (r.chance(0.3)) return 'f'.repeat(n);
  let s = '';
  for (let i = 0; i < n; i++) s += r.pick([...ALPHABET]);
  return s;
}

/** A JSON value: mostly small, of every type, sometimes deep or long. */
export function fuzzValue(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 3 ? 6 : 8)) {
    case 0:
      return null;
    case 1:
      return r.pick([0, -1, 1, 1.5, 1e308, -1e308, 2 ** 53, 10080, 10081, 100_000]);
    case 2:
      return r.chance(0.5);
    case 3:
    case 4:
    case 5:
      return fuzzString(r);
    case 6:
      return Array.from({ length: r.int(5) }, () => fuzzValue(r, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: r.int(5) }, () => [fuzzString(r, 12), fuzzValue(r, depth + 1)]));
  }
}

export interface ModelOperation {
  service: string;
  name: string;
  method: string;
  path: string;
  members: string[];
}

type OperationSchema = [9, string, string, { http?: [string, string, number] }, () => unknown[]];

function operationsOf(service: string, model: Record<string, unknown>): ModelOperation[] {
  const out: ModelOperation[] = [];
  for (const [key, value] of Object.entries(model)) {
    if (!key.endsWith('$') || !Array.isArray(value) || value[0] !== 9) continue;
    const op = value as OperationSchema;
    const http = op[3].http;
    if (!http) continue;
    out.push({ service, name: op[2], method: http[0], path: http[1], members: (op[4]()[4] as string[]) ?? [] });
  }
  return out;
}

/** Every restJson operation of the AWS models the server speaks (jobs and registry among them). */
export const MODEL_OPERATIONS: ModelOperation[] = [
  ...operationsOf('iot', iotModel as unknown as Record<string, unknown>).filter((o) =>
    /Job|Thing|Certificate|Tag|Principal|Event|Endpoint|Package/.test(o.name),
  ),
  ...operationsOf('iot-jobs-data', dataModel as unknown as Record<string, unknown>),
  ...operationsOf('signer', signerModel as unknown as Record<string, unknown>),
];

/** A path label: usually a plausible name, sometimes hostile or malformed percent-encoding. */
export function fuzzLabel(r: Rng, names: readonly string[]): string {
  if (r.chance(0.6)) return r.pick(names);
  if (r.chance(0.2)) return r.pick(['%zz', '%', '%2', '..', '%2e%2e', '$next', '%00', '']);
  return encodeURIComponent(fuzzString(r, 80));
}
