import type { Readable } from 'node:stream';
import { ServiceError } from '../errors.js';
import type { BodyExpectations } from '../objects/blob-writer.js';
import type { ObjectAttributes, ObjectMeta } from '../objects/objects.schemas.js';
import { signerValidation } from './signing.schemas.js';

/** What signing needs of the object store (src/objects/objects.service.ts ObjectsService). */
export interface SigningObjectStore {
  getVersioning(bucket: string): Promise<string>;
  resolve(bucket: string, key: string, versionId?: string): Promise<ObjectMeta>;
  openBody(meta: ObjectMeta): Promise<Readable>;
  putObject(
    bucket: string,
    key: string,
    body: Readable,
    expect: BodyExpectations,
    attributes: ObjectAttributes,
  ): Promise<{ versionId?: string }>;
}

export const noObjectStore = (): SigningObjectStore => {
  throw new ServiceError(
    'ServiceUnavailable',
    'Code signing needs the object store, which this server has not started.',
  );
};

/**
 * The object version a signing job may sign (spec 6.6: the source bucket must be versioned, and
 * Signer signs one exact version). S3's errors become messages that say what to fix.
 */
export async function requireSignableSource(
  objects: SigningObjectStore,
  bucket: string,
  key: string,
  version: string,
): Promise<ObjectMeta> {
  const where = `s3://${bucket}/${key}`;
  let versioning: string;
  try {
    versioning = await objects.getVersioning(bucket);
  } catch (err) {
    if (err instanceof ServiceError && err.code === 'NoSuchBucket') {
      throw signerValidation(`The source bucket ${bucket} does not exist.`);
    }
    throw err;
  }
  if (versioning !== 'Enabled') {
    throw signerValidation(
      `The source bucket ${bucket} is not versioned (versioning ${versioning === '' ? 'was never enabled' : versioning}); code signing signs one object version, so enable versioning and upload the file again.`,
    );
  }
  if (version === 'null') {
    throw signerValidation(`${where} version null was written before versioning was enabled; upload the file again.`);
  }
  try {
    return await objects.resolve(bucket, key, version);
  } catch (err) {
    if (err instanceof ServiceError && err.code === 'NoSuchVersion') {
      throw signerValidation(`${where} has no version ${version}.`);
    }
    if (err instanceof ServiceError && err.code === 'MethodNotAllowed') {
      throw signerValidation(`${where} version ${version} is a delete marker, not a file.`);
    }
    throw err;
  }
}
