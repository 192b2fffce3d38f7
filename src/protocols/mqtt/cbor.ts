/**
 * The CBOR (RFC 8949) the streams topics need: maps with text keys, integers, byte and text
 * strings, arrays, booleans and null. Written here, not taken from a library, because the
 * subset is small and the decoder faces untrusted device payloads: it is strict (no tags, no
 * floats, no chunked strings, bounded depth) and never allocates more than the input holds.
 */

export type CborValue = number | string | Uint8Array | boolean | null | CborValue[] | { [key: string]: CborValue };

export class CborError extends Error {}

const MAX_DEPTH = 16;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function head(out: number[], major: number, n: number): void {
  const m = major << 5;
  if (n < 24) out.push(m | n);
  else if (n < 0x100) out.push(m | 24, n);
  else if (n < 0x10000) out.push(m | 25, n >> 8, n & 0xff);
  else if (n < 0x100000000) out.push(m | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
  else {
    const hi = Math.floor(n / 0x100000000);
    const lo = n >>> 0;
    out.push(m | 27, (hi >>> 24) & 0xff, (hi >> 16) & 0xff, (hi >> 8) & 0xff, hi & 0xff);
    out.push((lo >>> 24) & 0xff, (lo >> 16) & 0xff, (lo >> 8) & 0xff, lo & 0xff);
  }
}

/** Encodes with definite lengths and the shortest heads (the form tinycbor writes). */
export function encodeCbor(value: CborValue): Buffer {
  const parts: (number[] | Uint8Array)[] = [];
  let cur: number[] = [];
  const flush = (): void => {
    if (cur.length > 0) parts.push(cur);
    cur = [];
  };
  const walk = (v: CborValue): void => {
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new CborError(`only integers are encoded, not ${v}`);
      if (v >= 0) head(cur, 0, v);
      else head(cur, 1, -1 - v);
    } else if (typeof v === 'string') {
      const bytes = Buffer.from(v, 'utf8');
      head(cur, 3, bytes.length);
      flush();
      parts.push(bytes);
    } else if (v instanceof Uint8Array) {
      head(cur, 2, v.length);
      flush();
      parts.push(v);
    } else if (typeof v === 'boolean') cur.push(v ? 0xf5 : 0xf4);
    else if (v === null) cur.push(0xf6);
    else if (Array.isArray(v)) {
      head(cur, 4, v.length);
      for (const item of v) walk(item);
    } else {
      const entries = Object.entries(v);
      head(cur, 5, entries.length);
      for (const [k, item] of entries) {
        walk(k);
        walk(item);
      }
    }
  };
  walk(value);
  flush();
  return Buffer.concat(parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p))));
}

/** Decodes exactly one item that spans the whole input; anything else is a CborError. */
export function decodeCbor(input: Uint8Array): CborValue {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  let pos = 0;
  const need = (n: number): void => {
    if (pos + n > buf.length) throw new CborError('truncated CBOR item');
  };
  const argument = (info: number): number => {
    if (info < 24) return info;
    if (info === 24) {
      need(1);
      return buf[pos++]!;
    }
    if (info === 25) {
      need(2);
      pos += 2;
      return buf.readUInt16BE(pos - 2);
    }
    if (info === 26) {
      need(4);
      pos += 4;
      return buf.readUInt32BE(pos - 4);
    }
    if (info === 27) {
      need(8);
      const n = buf.readBigUInt64BE(pos);
      pos += 8;
      if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new CborError('integer too large');
      return Number(n);
    }
    throw new CborError(info === 31 ? 'indefinite lengths are not accepted' : `reserved additional info ${info}`);
  };
  const item = (depth: number): CborValue => {
    if (depth > MAX_DEPTH) throw new CborError('CBOR nested too deeply');
    need(1);
    const initial = buf[pos++]!;
    const major = initial >> 5;
    const info = initial & 0x1f;
    switch (major) {
      case 0:
        return argument(info);
      case 1:
        return -1 - argument(info);
      case 2:
      case 3: {
        const n = argument(info);
        need(n);
        const bytes = buf.subarray(pos, pos + n);
        pos += n;
        if (major === 2) return Uint8Array.from(bytes);
        try {
          return strictUtf8.decode(bytes);
        } catch {
          throw new CborError('text is not UTF-8');
        }
      }
      case 4: {
        const n = argument(info);
        // Each element takes at least one byte: a huge count cannot be honest.
        need(n);
        const out: CborValue[] = [];
        for (let i = 0; i < n; i++) out.push(item(depth + 1));
        return out;
      }
      case 5: {
        const n = argument(info);
        need(n * 2);
        const out: Record<string, CborValue> = {};
        for (let i = 0; i < n; i++) {
          const key = item(depth + 1);
          if (typeof key !== 'string') throw new CborError('map keys must be text');
          if (Object.prototype.hasOwnProperty.call(out, key)) throw new CborError(`duplicate map key ${key}`);
          Object.defineProperty(out, key, { value: item(depth + 1), enumerable: true, writable: true });
        }
        return out;
      }
      case 7:
        if (info === 20) return false;
        if (info === 21) return true;
        if (info === 22) return null;
        throw new CborError('floats and other simple values are not accepted');
      default:
        throw new CborError('tagged items are not accepted');
    }
  };
  const value = item(0);
  if (pos !== buf.length) throw new CborError('bytes after the CBOR item');
  return value;
}
