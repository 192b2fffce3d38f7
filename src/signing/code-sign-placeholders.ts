import { parseAlgorithm } from './verify.js';

/**
 * The code-sign placeholder of job documents (spec 6.3), pure text work:
 * `${aws:iot:code-sign-signature:s3://<region>.<bucket>/<key>@<version>}`.
 *
 * Replacement is done on the text, so the rest of the document stays byte for byte as written:
 * - a JSON string that is exactly the placeholder becomes the spec 6.4 signature block (an object);
 * - under a FreeRTOS signature key (`"sig-sha256-ecdsa": "${...}"`, spec 6.5) it becomes the
 *   base64 signature string;
 * - inside a longer string it becomes the base64 signature;
 * - the nested form `${aws:iot:s3-presigned-url:${aws:iot:code-sign-signature:<S3 URL>}}` (spec 6.3;
 *   the docs' single closing brace is accepted too) becomes a presigned-URL placeholder of exactly
 *   the signed object version.
 */
export interface CodeSignRef {
  region: string;
  bucket: string;
  key: string;
  version: string;
}

export interface CodeSignOccurrence {
  ref: CodeSignRef;
  /** The FreeRTOS signature key the placeholder is the value of, e.g. `sig-sha256-ecdsa`. */
  freertosKey?: string;
}

export interface SignatureForRef {
  block: { rawPayloadSize: number; signature: string; signatureAlgorithm: string; payloadLocation: unknown };
}

const PREFIX = '${aws:iot:code-sign-signature:';
const PLACEHOLDER = /\$\{aws:iot:code-sign-signature:([^}]*)\}/g;
const NESTED = /\$\{aws:iot:s3-presigned-url(?:-v[12])?:\$\{aws:iot:code-sign-signature:([^}]*)\}(\}?)/g;
const FREERTOS_BEFORE = /"(sig-[a-z0-9-]+)"\s*:\s*"$/;
const REGION = /^([a-z]{2}(?:-[a-z]+)+-\d+)\.(.+)$/;

export const hasCodeSignPlaceholder = (document: string): boolean => document.includes(PREFIX);

export class PlaceholderError extends Error {}

/** Parses `s3://<region>.<bucket>/<key>@<version>`. */
export function parseCodeSignUrl(url: string): CodeSignRef {
  const bad = (why: string): PlaceholderError =>
    new PlaceholderError(
      `The code-sign placeholder \${aws:iot:code-sign-signature:${url}} ${why}; the form is s3://<region>.<bucket>/<key>@<version>.`,
    );
  if (!url.startsWith('s3://')) throw bad('does not start with s3://');
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) throw bad('names no bucket and key');
  const m = REGION.exec(rest.slice(0, slash));
  if (!m) throw bad('does not start with a region (e.g. s3://us-east-1.my-bucket/...)');
  const path = rest.slice(slash + 1);
  const at = path.lastIndexOf('@');
  if (at <= 0) throw bad('names no object version after @');
  const key = path.slice(0, at);
  const version = path.slice(at + 1);
  if (version === '') throw bad('names no object version after @');
  return { region: m[1]!, bucket: m[2]!, key, version };
}

export const refId = (r: CodeSignRef): string => `${r.region}.${r.bucket}/${r.key}@${r.version}`;

/** Every placeholder of a document, with the FreeRTOS key it belongs to when there is one. */
export function findCodeSignPlaceholders(document: string): CodeSignOccurrence[] {
  const out: CodeSignOccurrence[] = [];
  for (const m of document.matchAll(PLACEHOLDER)) {
    const ref = parseCodeSignUrl(m[1]!);
    const before = FREERTOS_BEFORE.exec(document.slice(Math.max(0, m.index - 80), m.index));
    const after = document[m.index + m[0].length];
    const freertosKey = before && after === '"' ? before[1] : undefined;
    out.push({ ref, ...(freertosKey !== undefined && { freertosKey }) });
  }
  return out;
}

/** FreeRTOS keys name the algorithm; the profile must sign with it. */
export function freertosKeyAccepts(freertosKey: string, signatureAlgorithm: string): boolean {
  const wanted = parseAlgorithm(freertosKey);
  return wanted !== undefined && wanted.name === parseAlgorithm(signatureAlgorithm)?.name;
}

/** The v2 presigned-URL placeholder of one object version (spec 6.1: the query part encoded). */
export function presignedPlaceholderFor(ref: CodeSignRef): string {
  const key = ref.key.split('/').map(encodeURIComponent).join('/');
  return `\${aws:iot:s3-presigned-url-v2:https://s3.${ref.region}.amazonaws.com/${ref.bucket}/${key}%3FversionId%3D${encodeURIComponent(ref.version)}}`;
}

/** Puts the signatures in place of their placeholders (see the header for the rules). */
export function replaceCodeSignPlaceholders(document: string, signatures: Map<string, SignatureForRef>): string {
  const sigOf = (url: string): SignatureForRef => {
    const found = signatures.get(refId(parseCodeSignUrl(url)));
    if (!found) throw new PlaceholderError(`No signature was made for ${url}.`);
    return found;
  };
  const nestedDone = document.replace(NESTED, (_all, url: string) => {
    sigOf(url);
    return presignedPlaceholderFor(parseCodeSignUrl(url));
  });
  let out = '';
  let last = 0;
  for (const m of nestedDone.matchAll(PLACEHOLDER)) {
    const { block } = sigOf(m[1]!);
    const start = m.index;
    const end = start + m[0].length;
    const wholeString = nestedDone[start - 1] === '"' && nestedDone[end] === '"';
    const freertos = wholeString && FREERTOS_BEFORE.test(nestedDone.slice(Math.max(0, start - 80), start));
    if (wholeString && !freertos) {
      out += nestedDone.slice(last, start - 1) + JSON.stringify(block);
      last = end + 1;
    } else {
      out += nestedDone.slice(last, start) + block.signature;
      last = end;
    }
  }
  return out + nestedDone.slice(last);
}
