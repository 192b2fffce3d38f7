import type { Draft, FileRef } from './draft.js';

/**
 * The one job-document format for a code-signed file (the reference agent's, which the CLI's
 * `--sign-with` writes too; README "The device agent"):
 *   "files": [{"name": "fw.bin",
 *              "url": "${aws:iot:s3-presigned-url-v2:<S3 URL of the signed version>}",
 *              "codesign": "${aws:iot:code-sign-signature:s3://<region>.<bucket>/<key>@<version>}"}]
 * CreateJob replaces `codesign` with the signature block made by the chosen profile (spec 6.3, 6.4);
 * each device gets the URL presigned when it fetches the document (spec 6.1).
 */
export interface ImageEntry {
  name: string;
  url?: string;
  codesign?: string;
}

/** The S3 object URL form used in documentSource and placeholders (spec 6.1). */
export const s3Url = (region: string, f: FileRef): string =>
  `https://s3.${region}.amazonaws.com/${f.bucket}/${f.key.split('/').map(encodeURIComponent).join('/')}`;

export const presignPlaceholder = (region: string, f: FileRef): string =>
  f.versionId
    ? `\${aws:iot:s3-presigned-url-v2:${s3Url(region, f)}%3FversionId%3D${encodeURIComponent(f.versionId)}}`
    : `\${aws:iot:s3-presigned-url:${s3Url(region, f)}}`;

export const signaturePlaceholder = (region: string, f: FileRef): string =>
  `\${aws:iot:code-sign-signature:s3://${region}.${f.bucket}/${f.key}@${f.versionId ?? ''}}`;

/** The device-side name of the image: the last part of its key, made a plain file name. */
export const imageFileName = (f: FileRef): string =>
  (f.key.split('/').pop() ?? '').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[.-]/, '_') || 'image.bin';

/** The files[] entry the signing step's choices describe, or none. */
export function imageEntry(d: Draft, region: string): ImageEntry | undefined {
  const image = d.image;
  if (!image || (!d.sign.enabled && !d.presign.enabled)) return undefined;
  return {
    name: imageFileName(image),
    ...(d.presign.enabled && { url: presignPlaceholder(region, image) }),
    ...(d.sign.enabled && { codesign: signaturePlaceholder(region, image) }),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The inline document with the image's entry in `files` (replacing an entry of the same name);
 * a Device Client runHandler step with no arguments gets the file's path (`${file:NAME}`) as its
 * argument. The text is returned as it is when there is no entry or it is not a JSON object.
 */
export function withImageEntry(text: string, entry: ImageEntry | undefined): string {
  if (!entry) return text;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return text;
  }
  if (!isObject(doc)) return text;
  const files = Array.isArray(doc.files) ? doc.files.filter((f) => !isObject(f) || f.name !== entry.name) : [];
  const out: Record<string, unknown> = { ...doc, files: [...files, entry] };
  if (Array.isArray(doc.steps)) {
    out.steps = doc.steps.map((step: unknown) => {
      const action = isObject(step) && isObject(step.action) ? step.action : undefined;
      const input = action && isObject(action.input) ? action.input : undefined;
      if (!action || action.type !== 'runHandler' || !input) return step;
      if (Array.isArray(input.args) && input.args.length > 0) return step;
      return {
        ...(step as Record<string, unknown>),
        action: { ...action, input: { ...input, args: [`\${file:${entry.name}}`] } },
      };
    });
  }
  return JSON.stringify(out, null, 2);
}
