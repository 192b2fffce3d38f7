/**
 * The job-document placeholders the CLI itself acts on (spec 6.1, 6.3). Pure functions.
 * `${aws:iot:code-sign-signature:s3://<region>.<bucket>/<key>@<version>}` is filled in at job
 * creation, as the AWS console does; `${aws:iot:s3-presigned-url...:<S3 URL>}` names files the
 * service presigns for each device, and that `--sign-with` signs when no code-sign placeholder does.
 */
export interface S3ObjectRef {
  bucket: string;
  key: string;
  version?: string;
}

export interface CodeSignPlaceholder extends S3ObjectRef {
  text: string;
  region: string;
}

const CODE_SIGN = /\$\{aws:iot:code-sign-signature:s3:\/\/([a-z]{2}(?:-[a-z]+)+-\d+)\.([^/}]+)\/([^}]+)@([^@}]+)\}/g;
const PRESIGNED = /\$\{aws:iot:s3-presigned-url(?:-v[12])?:([^}]+)\}/g;

export function findCodeSignPlaceholders(document: string): CodeSignPlaceholder[] {
  const seen = new Map<string, CodeSignPlaceholder>();
  for (const m of document.matchAll(CODE_SIGN)) {
    seen.set(m[0], { text: m[0], region: m[1]!, bucket: m[2]!, key: m[3]!, version: m[4]! });
  }
  return [...seen.values()];
}

/**
 * Replaces a placeholder: a JSON string that is exactly the placeholder becomes the signature
 * object; a placeholder inside a longer string becomes the base64 signature.
 */
export function replaceCodeSign(document: string, placeholder: string, block: { signature?: string }): string {
  const quoted = JSON.stringify(placeholder);
  let out = document.split(quoted).join(JSON.stringify(block));
  out = out.split(placeholder).join(block.signature ?? '');
  return out;
}

/** The S3 object an S3 URL (any of the forms of spec 6.1) names. */
export function parseS3ObjectUrl(url: string): S3ObjectRef | undefined {
  let decoded = url;
  // v2 placeholders percent-encode the whole URL, including `?versionId=`.
  if (/%3F/i.test(url) && !url.includes('?'))
    decoded = url.replace(/%3F/gi, '?').replace(/%3D/gi, '=').replace(/%26/gi, '&');
  const m = /^(?:(https?):\/\/([^/]+))?\/?([^?]*)(?:\?(.*))?$/.exec(decoded);
  if (!m) return undefined;
  const host = m[2];
  const path = m[3] ?? '';
  const version = m[4] ? (new URLSearchParams(m[4]).get('versionId') ?? undefined) : undefined;
  const virtual = host ? /^(.+)\.s3[.-](?:[a-z0-9-]+\.)?amazonaws\.com(?::\d+)?$/.exec(host) : null;
  let bucket: string;
  let key: string;
  if (virtual) {
    bucket = virtual[1]!;
    key = path;
  } else {
    const slash = path.indexOf('/');
    if (slash <= 0) return undefined;
    bucket = path.slice(0, slash);
    key = path.slice(slash + 1);
  }
  if (key === '') return undefined;
  const safeDecode = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  return { bucket, key: safeDecode(key), ...(version && { version }) };
}

export function findPresignedUrls(text: string): { text: string; url: string }[] {
  return [...text.matchAll(PRESIGNED)].map((m) => ({ text: m[0], url: m[1]! }));
}

/**
 * Objects of a parsed document that carry a presigned-URL placeholder in one of their string
 * members and no `codesign` member yet: the spec 6.3 shape `{"presign": "...", "codesign": {...}}`.
 */
export function unsignedFileEntries(doc: unknown): { holder: Record<string, unknown>; ref: S3ObjectRef }[] {
  const out: { holder: Record<string, unknown>; ref: S3ObjectRef }[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v === null || typeof v !== 'object') return;
    const obj = v as Record<string, unknown>;
    if (!('codesign' in obj)) {
      for (const member of Object.values(obj)) {
        if (typeof member !== 'string') continue;
        const found = findPresignedUrls(member)[0];
        const ref = found && parseS3ObjectUrl(found.url);
        if (ref) {
          out.push({ holder: obj, ref });
          break;
        }
      }
    }
    Object.values(obj).forEach(walk);
  };
  walk(doc);
  return out;
}
