import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { rootCertificates } from 'node:tls';

/**
 * Downloads a (presigned) URL to a file with resume: bytes land in `<dest>.part`, and a retry or a
 * restart of the agent continues with `Range: bytes=<size>-` (spec 6.1: the URL itself may have
 * to be renewed when it expired; the caller does that on HttpStatusError 403).
 */
export interface DownloadOptions {
  /** CA certificates to trust for https URLs (the server CA), in addition to the system ones. */
  ca?: string | string[];
  /** Client certificate and key, offered when the server asks (the device HTTPS listener does). */
  cert?: string;
  key?: string;
  signal?: AbortSignal;
  /** Called as bytes arrive: bytes on disk so far, and the total when known. */
  onProgress?: (bytes: number, total: number | undefined) => void;
  /** Network failures tolerated (each attempt resumes); default 5. */
  retries?: number;
  retryDelayMs?: number;
  timeoutMs?: number;
}

export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    url: string,
  ) {
    super(`GET ${redact(url)} answered HTTP ${status}`);
  }
}

/** Presigned query strings are credentials: never log them. */
export const redact = (url: string): string => url.replace(/\?.*$/, '?…');

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
  resumedFrom: number;
}

const partSize = (part: string): number => (existsSync(part) ? statSync(part).size : 0);

export async function download(url: string, dest: string, o: DownloadOptions = {}): Promise<DownloadResult> {
  const part = `${dest}.part`;
  mkdirSync(dirname(dest), { recursive: true });
  let resumedFrom = 0;
  const retries = o.retries ?? 5;
  for (let attempt = 0; ; attempt++) {
    try {
      const from = await fetchInto(url, part, o);
      if (from > 0) resumedFrom = from;
      break;
    } catch (err) {
      if (o.signal?.aborted || err instanceof HttpStatusError || attempt >= retries) throw err;
      await sleep((o.retryDelayMs ?? 500) * 2 ** Math.min(attempt, 5), undefined, { signal: o.signal });
    }
  }
  renameSync(part, dest);
  return { path: dest, bytes: statSync(dest).size, sha256: await sha256File(dest), resumedFrom };
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function request(url: string, headers: Record<string, string>, o: DownloadOptions): Promise<http.IncomingMessage> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  const tlsOptions =
    u.protocol === 'https:'
      ? {
          ca: o.ca === undefined ? undefined : [...(Array.isArray(o.ca) ? o.ca : [o.ca]), ...rootCertificates],
          cert: o.cert,
          key: o.key,
        }
      : {};
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { headers, signal: o.signal, timeout: o.timeoutMs ?? 30_000, ...tlsOptions }, resolve);
    req.on('timeout', () => req.destroy(new Error(`GET ${redact(url)} timed out`)));
    req.on('error', reject);
  });
}

/**
 * One attempt: continue `part` from its size, or start over when the server ignores Range.
 * Answers the offset it continued from (0: from the start).
 */
async function fetchInto(url: string, part: string, o: DownloadOptions): Promise<number> {
  const have = partSize(part);
  const res = await request(url, have > 0 ? { range: `bytes=${have}-` } : {}, o);
  if (res.statusCode === 416 && have > 0) {
    // The part is longer than the object (it changed?): start over.
    res.resume();
    rmSync(part, { force: true });
    return fetchInto(url, part, o);
  }
  if (res.statusCode !== 200 && res.statusCode !== 206) {
    res.resume();
    throw new HttpStatusError(res.statusCode ?? 0, url);
  }
  const append = res.statusCode === 206;
  if (append) {
    const start = Number(/^bytes (\d+)-/.exec(String(res.headers['content-range']))?.[1]);
    if (start !== have) {
      res.resume();
      throw new Error(`GET ${redact(url)}: asked for bytes from ${have}, got a range from ${start}`);
    }
  }
  const length = Number(res.headers['content-length']);
  const total = Number.isFinite(length) ? (append ? have : 0) + length : undefined;
  let bytes = append ? have : 0;
  await pipeline(
    res,
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        bytes += chunk.length;
        o.onProgress?.(bytes, total);
        yield chunk;
      }
    },
    createWriteStream(part, { flags: append ? 'a' : 'w' }),
  );
  if (total !== undefined && bytes !== total)
    throw new Error(`GET ${redact(url)}: the body ended at ${bytes} of ${total} bytes`);
  return append ? have : 0;
}
