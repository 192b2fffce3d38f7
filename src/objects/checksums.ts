import { createHash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';

/**
 * The S3 additional checksums (x-amz-checksum-*): what the JS SDK (CRC32 by default, CRC64NVME
 * on request) and the CLI send. Values travel base64 of the big-endian digest.
 */
export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export const checksumHeader = (a: ChecksumAlgorithm): string => `x-amz-checksum-${a.toLowerCase()}`;

/** CRC algorithms combine per part (COMPOSITE) or over the whole object (FULL_OBJECT). */
export const FULL_OBJECT_CAPABLE: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME'];

export interface Hasher {
  update(data: Buffer): void;
  digest(): Buffer;
}

function crc32cTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** CRC-64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5) as two 32-bit halves: no BigInt per byte. */
function crc64Tables(): { lo: Uint32Array; hi: Uint32Array } {
  const lo = new Uint32Array(256);
  const hi = new Uint32Array(256);
  const polyLo = 0xac4bc9b5;
  const polyHi = 0x9a6c9329;
  for (let n = 0; n < 256; n++) {
    let l = n;
    let h = 0;
    for (let k = 0; k < 8; k++) {
      const bit = l & 1;
      l = ((l >>> 1) | ((h & 1) << 31)) >>> 0;
      h = h >>> 1;
      if (bit) {
        l = (l ^ polyLo) >>> 0;
        h = (h ^ polyHi) >>> 0;
      }
    }
    lo[n] = l;
    hi[n] = h;
  }
  return { lo, hi };
}

let CRC32C: Uint32Array | undefined;
let CRC64: { lo: Uint32Array; hi: Uint32Array } | undefined;

class Crc32 implements Hasher {
  private value = 0;
  update(data: Buffer): void {
    this.value = zlibCrc32(data, this.value);
  }
  digest(): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(this.value >>> 0);
    return b;
  }
}

class Crc32c implements Hasher {
  private value = 0xffffffff;
  private readonly table = (CRC32C ??= crc32cTable());
  update(data: Buffer): void {
    let c = this.value;
    const t = this.table;
    for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
    this.value = c >>> 0;
  }
  digest(): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32BE((this.value ^ 0xffffffff) >>> 0);
    return b;
  }
}

class Crc64Nvme implements Hasher {
  private lo = 0xffffffff;
  private hi = 0xffffffff;
  private readonly t = (CRC64 ??= crc64Tables());
  update(data: Buffer): void {
    let lo = this.lo;
    let hi = this.hi;
    const tlo = this.t.lo;
    const thi = this.t.hi;
    for (let i = 0; i < data.length; i++) {
      const idx = (lo ^ data[i]!) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ tlo[idx]!;
      hi = (hi >>> 8) ^ thi[idx]!;
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }
  digest(): Buffer {
    const b = Buffer.alloc(8);
    b.writeUInt32BE((this.hi ^ 0xffffffff) >>> 0, 0);
    b.writeUInt32BE((this.lo ^ 0xffffffff) >>> 0, 4);
    return b;
  }
}

class NodeHash implements Hasher {
  private readonly h;
  constructor(algorithm: string) {
    this.h = createHash(algorithm);
  }
  update(data: Buffer): void {
    this.h.update(data);
  }
  digest(): Buffer {
    return this.h.digest();
  }
}

export function createHasher(algorithm: ChecksumAlgorithm | 'MD5'): Hasher {
  switch (algorithm) {
    case 'CRC32':
      return new Crc32();
    case 'CRC32C':
      return new Crc32c();
    case 'CRC64NVME':
      return new Crc64Nvme();
    case 'SHA1':
      return new NodeHash('sha1');
    case 'SHA256':
      return new NodeHash('sha256');
    case 'MD5':
      return new NodeHash('md5');
  }
}

export function checksumOf(algorithm: ChecksumAlgorithm, data: Buffer): string {
  const h = createHasher(algorithm);
  h.update(data);
  return h.digest().toString('base64');
}

/** S3's COMPOSITE checksum of a multipart object: the checksum of the parts' raw checksums, "-N". */
export function compositeChecksum(algorithm: ChecksumAlgorithm, partChecksums: readonly string[]): string {
  const raw = Buffer.concat(partChecksums.map((c) => Buffer.from(c, 'base64')));
  return `${checksumOf(algorithm, raw)}-${partChecksums.length}`;
}

export function parseChecksumAlgorithm(value: string | undefined): ChecksumAlgorithm | undefined {
  if (value === undefined || value === '') return undefined;
  const upper = value.toUpperCase();
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(upper) ? (upper as ChecksumAlgorithm) : undefined;
}
