import { ServiceError } from '../errors.js';
import type { SigningObjectStore } from './signing-objects.js';
import { ACCOUNT_RULE, PROFILE_NAME_RULE, signerValidation, validateSigner } from './signing.schemas.js';

export interface StartSigningJobInput {
  source?: { s3?: { bucketName?: string; key?: string; version?: string } };
  destination?: { s3?: { bucketName?: string; prefix?: string } };
  profileName?: string;
  clientRequestToken?: string;
  profileOwner?: string;
}

/** StartSigningJob's members (botocore signer StartSigningJobRequest). */
export function checkStart(input: StartSigningJobInput): void {
  validateSigner((v) => {
    if (v.required('source', input.source) && v.object('source', input.source)) {
      const s3 = input.source.s3;
      if (v.required('source.s3', s3) && v.object('source.s3', s3)) {
        for (const m of ['bucketName', 'key', 'version'] as const) {
          if (v.required(`source.s3.${m}`, s3[m])) v.string(`source.s3.${m}`, s3[m], { min: 1 });
        }
      }
    }
    if (v.required('destination', input.destination) && v.object('destination', input.destination)) {
      const s3 = input.destination.s3;
      if (v.required('destination.s3', s3) && v.object('destination.s3', s3)) {
        if (v.required('destination.s3.bucketName', s3.bucketName)) {
          v.string('destination.s3.bucketName', s3.bucketName, { min: 1 });
        }
        v.string('destination.s3.prefix', s3.prefix);
      }
    }
    if (v.required('profileName', input.profileName)) v.string('profileName', input.profileName, PROFILE_NAME_RULE);
    if (v.required('clientRequestToken', input.clientRequestToken)) {
      v.string('clientRequestToken', input.clientRequestToken, { min: 1, max: 64 });
    }
    v.string('profileOwner', input.profileOwner, ACCOUNT_RULE);
  });
}

export async function requireDestination(objects: SigningObjectStore, bucket: string): Promise<void> {
  try {
    await objects.getVersioning(bucket);
  } catch (err) {
    if (err instanceof ServiceError && err.code === 'NoSuchBucket') {
      throw signerValidation(`The destination bucket ${bucket} does not exist.`);
    }
    throw err;
  }
}
