import { ServiceError } from '../errors.js';

/**
 * Presigned-URL placeholders in job documents (spec 6.1):
 *
 *   ${aws:iot:s3-presigned-url:<S3 URL>}      the URL unencoded (also -v1)
 *   ${aws:iot:s3-presigned-url-v2:<S3 URL>}   the URL percent-encoded; `%3FversionId%3D<id>` pins a version
 *
 * <S3 URL> is `bucket/key`, path style (`https://s3[.<region>].amazonaws.com/bucket/key`, or any
 * host: this server's own endpoints), virtual-hosted (`https://bucket.s3[.<region>].amazonaws.com/key`)
 * or `s3://bucket/key`. fleetjobs extension (issue 6, item 6): a plain `?versionId=<id>` pins a
 * version in either form, so a file overwritten later can never reach a device under an old job.
 */

export const PLACEHOLDER_FORMS = ['v1', 'v2'] as const;
export type PlaceholderForm = (typeof PLACEHOLDER_FORMS)[number];

export interface S3ObjectRef {
  bucket: string;
  key: string;
  versionId?: string;
}

export interface Placeholder {
  /** Offsets of `${` and just after `}` in the document. */
  start: number;
  end: number;
  form: PlaceholderForm;
  url: string;
  ref: S3ObjectRef;
}

/** spec 3.3: at most 10 substitutions per document, presigned URLs included. */
export const MAX_PLACEHOLDERS = 10;

const PREFIX = '${aws:iot:s3-presigned-url';
/** Suffixes after the prefix, longest first; `-upload` placeholders are not resolved here. */
const SUFFIXES: readonly [string, PlaceholderForm | 'upload'][] = [
  ['-upload:', 'upload'],
  ['-v1:', 'v1'],
  ['-v2:', 'v2'],
  [':', 'v1'],
];
const VIRTUAL_HOST = /^([a-z0-9][a-z0-9.-]*[a-z0-9])\.s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export class PlaceholderError extends ServiceError {
  constructor(message: string) {
    super('InvalidRequest', message);
  }
}

function percentDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** Splits off the version query: a literal `?` (both forms) or, in v2, an encoded `%3F`. */
function splitQuery(url: string, form: PlaceholderForm): { path: string; versionId?: string } | undefined {
  let at = url.indexOf('?');
  let query: string | undefined;
  if (at >= 0) query = url.slice(at + 1);
  else if (form === 'v2') {
    at = url.search(/%3F/i);
    if (at >= 0) query = percentDecode(url.slice(at + 3));
  }
  if (at < 0) return { path: url };
  if (query === undefined) return undefined;
  const params = new URLSearchParams(query);
  for (const name of params.keys()) if (name !== 'versionId') return undefined;
  const versionId = params.get('versionId') ?? undefined;
  if (versionId === '') return undefined;
  return { path: url.slice(0, at), ...(versionId !== undefined && { versionId }) };
}

/** The object an S3 URL of any accepted form names; undefined when the text is no such URL. */
export function parseS3Url(url: string, form: PlaceholderForm = 'v1'): S3ObjectRef | undefined {
  // Placeholders sit inside JSON strings: a raw quote or backslash would end or escape the string.
  if (url === '' || /[}"\\]/.test(url)) return undefined;
  // The v2 form is percent-encoded throughout: a raw space cannot be part of it.
  if (form === 'v2' && /\s/.test(url)) return undefined;
  const split = splitQuery(url, form);
  if (!split) return undefined;
  const decode = (s: string): string | undefined => (form === 'v2' ? percentDecode(s) : s);
  const m = /^(https?|s3):\/\/([^/]+)\/(.*)$/.exec(split.path);
  let bucket: string | undefined;
  let rawKey: string;
  if (m && m[1] !== 's3') {
    const host = m[2]!.toLowerCase().replace(/:\d+$/, '');
    const virtual = VIRTUAL_HOST.exec(host);
    if (virtual && !/^s3[.-]/.test(host)) {
      bucket = virtual[1];
      rawKey = m[3]!;
    } else {
      const slash = m[3]!.indexOf('/');
      if (slash < 0) return undefined;
      bucket = m[3]!.slice(0, slash);
      rawKey = m[3]!.slice(slash + 1);
    }
  } else {
    const path = m ? `${m[2]}/${m[3]}` : split.path;
    if (/^[a-z][a-z0-9+.-]*:/i.test(path)) return undefined;
    const slash = path.indexOf('/');
    if (slash < 0) return undefined;
    bucket = path.slice(0, slash);
    rawKey = path.slice(slash + 1);
  }
  const key = decode(rawKey);
  if (!bucket || !BUCKET.test(bucket) || key === undefined || key === '') return undefined;
  return { bucket, key, ...(split.versionId !== undefined && { versionId: split.versionId }) };
}

/**
 * Every download placeholder in a document, in order. A placeholder that names no object is an
 * InvalidRequest naming it.
 */
export function findPlaceholders(document: string): Placeholder[] {
  const found: Placeholder[] = [];
  let from = 0;
  for (;;) {
    const start = document.indexOf(PREFIX, from);
    if (start < 0) return found;
    const rest = document.slice(start + PREFIX.length);
    const suffix = SUFFIXES.find(([s]) => rest.startsWith(s));
    if (!suffix)
      throw new PlaceholderError(`Unknown presigned-URL placeholder at offset ${start}: ${preview(document, start)}`);
    const urlStart = start + PREFIX.length + suffix[0].length;
    if (suffix[1] === 'upload') {
      from = urlStart;
      continue;
    }
    const form = suffix[1];
    // Keys hold `}` only encoded (v2), so the first `}` closes the placeholder.
    const close = document.indexOf('}', urlStart);
    const url = close < 0 ? undefined : document.slice(urlStart, close);
    const ref = url === undefined ? undefined : parseS3Url(url, form);
    if (!ref || url === undefined) {
      throw new PlaceholderError(
        `The placeholder at offset ${start} does not name an S3 object (bucket/key, https://s3.<region>.amazonaws.com/<bucket>/<key> or https://<bucket>.s3.<region>.amazonaws.com/<key>): ${preview(document, start)}`,
      );
    }
    found.push({ start, end: close + 1, form, url, ref });
    from = close + 1;
  }
}

const preview = (document: string, start: number): string => {
  const text = document.slice(start, start + 120);
  return text.length < document.length - start ? `${text}...` : text;
};

/** Replaces each placeholder with its URL (same order as findPlaceholders). */
export function substitute(document: string, placeholders: readonly Placeholder[], urls: readonly string[]): string {
  let out = '';
  let at = 0;
  placeholders.forEach((p, i) => {
    out += document.slice(at, p.start) + urls[i]!;
    at = p.end;
  });
  return out + document.slice(at);
}

/** The placeholders of a document, checked against the substitution limit. */
export function checkedPlaceholders(document: string): Placeholder[] {
  const found = findPlaceholders(document);
  if (found.length > MAX_PLACEHOLDERS) {
    throw new PlaceholderError(
      `A job document may contain at most ${MAX_PLACEHOLDERS} presigned-URL placeholders, not ${found.length}.`,
    );
  }
  return found;
}
