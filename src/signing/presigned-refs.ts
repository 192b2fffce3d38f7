/**
 * The objects a job document's presigned-URL placeholders point at (spec 6.1), for the
 * delivery-time signature check. Only reads placeholders; making URLs is src/objects' work.
 */
export interface PresignedRef {
  bucket: string;
  key: string;
  versionId?: string;
}

const PLACEHOLDER = /\$\{aws:iot:s3-presigned-url(-v1|-v2)?:([^}]+)\}/g;
const VIRTUAL_HOST = /^(.+)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$/;

const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** An S3 URL of any of the forms of spec 6.1; undefined when it names no object. */
export function parseS3Url(url: string, encoded: boolean): PresignedRef | undefined {
  let text = url;
  let query = '';
  const q = encoded ? text.search(/%3F/i) : text.indexOf('?');
  if (q >= 0) {
    query = encoded ? safeDecode(text.slice(q)).slice(1) : text.slice(q + 1);
    text = text.slice(0, q);
  }
  let host: string | undefined;
  let path = text;
  const m = /^https?:\/\/([^/]+)\/?(.*)$/.exec(text);
  if (m) {
    host = m[1]!.replace(/:\d+$/, '');
    path = m[2]!;
  }
  const decode = (s: string): string => (encoded ? safeDecode(s) : s);
  const virtual = host ? VIRTUAL_HOST.exec(host) : null;
  let bucket: string;
  let key: string;
  if (virtual && !/^s3([.-]|$)/.test(host!)) {
    bucket = virtual[1]!;
    key = decode(path);
  } else {
    const slash = path.indexOf('/');
    if (slash <= 0) return undefined;
    bucket = path.slice(0, slash);
    key = decode(path.slice(slash + 1));
  }
  if (key === '') return undefined;
  // Not URLSearchParams: a '+' in a version id is a plus, not a space.
  const raw = /(?:^|&)versionId=([^&]*)/.exec(query)?.[1];
  const versionId = raw === undefined ? undefined : safeDecode(raw);
  return { bucket, key, ...(versionId !== undefined && { versionId }) };
}

export function findPresignedRefs(document: string): PresignedRef[] {
  const out: PresignedRef[] = [];
  for (const m of document.matchAll(PLACEHOLDER)) {
    const ref = parseS3Url(m[2]!, m[1] === '-v2');
    if (ref) out.push(ref);
  }
  return out;
}
