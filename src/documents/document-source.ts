import { ServiceError } from '../errors.js';
import type { ObjectServices } from '../objects/objects.services.js';
import { parseS3Url, type S3ObjectRef } from './placeholders.js';

/** spec 7: a job document is at most 32 KB. */
export const MAX_DOCUMENT_BYTES = 32768;

/** spec 6.3: the placeholder that makes a job a code-signed one. */
const CODE_SIGN_PREFIX = '${aws:iot:code-sign-signature:';

/** A documentSource URL: percent-encoded as any URL, optionally `?versionId=`. */
export function parseDocumentSource(url: string): S3ObjectRef {
  const ref = parseS3Url(url, 'v2') ?? parseS3Url(url, 'v1');
  if (!ref) {
    throw new ServiceError(
      'InvalidRequest',
      `documentSource '${url}' is not an S3 object URL such as https://s3.<region>.amazonaws.com/<bucket>/<key>.`,
    );
  }
  return ref;
}

/**
 * Reads a job document from the object store at CreateJob (spec 2.7, 3.3: copied once; later
 * changes to the object do not change the job). As in AWS, any bucket will do (the Device Client
 * tutorial uses a plain one), except that a document using code signing must come from a
 * versioned bucket, so the signed object and the document that names it stay pinned.
 */
export function documentSourceReader(objects: ObjectServices): (url: string) => Promise<string> {
  return async (url) => {
    const ref = parseDocumentSource(url);
    const fail = (why: string): ServiceError =>
      new ServiceError('InvalidRequest', `Cannot read documentSource ${url}: ${why}`);
    try {
      const meta = await objects.objects.resolve(ref.bucket, ref.key, ref.versionId);
      if (meta.size > MAX_DOCUMENT_BYTES) {
        throw fail(`the object is ${meta.size} bytes; a job document is at most ${MAX_DOCUMENT_BYTES} bytes.`);
      }
      const chunks: Buffer[] = [];
      for await (const chunk of await objects.objects.openBody(meta)) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks);
      const decoded = new TextDecoder('utf-8', { fatal: true });
      let document: string;
      try {
        document = decoded.decode(text);
      } catch {
        throw fail('the object is not UTF-8 text.');
      }
      if (document.includes(CODE_SIGN_PREFIX) && (await objects.objects.getVersioning(ref.bucket)) !== 'Enabled') {
        throw fail(
          `bucket ${ref.bucket} is not versioned; a documentSource that uses code signing must be in a bucket with versioning enabled.`,
        );
      }
      return document;
    } catch (err) {
      if (err instanceof ServiceError && err.code !== 'InvalidRequest' && err.code !== 'InternalFailure') {
        throw fail(err.message);
      }
      throw err;
    }
  };
}
