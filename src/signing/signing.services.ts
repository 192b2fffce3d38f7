import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import type { DeviceJobsService } from '../jobs/device-jobs.service.js';
import type { JobsService } from '../jobs/jobs.service.js';
import { SigningCertificatesService } from './certificates.service.js';
import { JobDocumentSigner } from './job-document-signer.js';
import type { SigningKeyring } from './keyring.js';
import { SigningProfilesService } from './profiles.service.js';
import { SignatureGuard } from './signature-guard.js';
import { SigningJobsService } from './signing-jobs.service.js';
import type { SigningObjectStore } from './signing-objects.js';

/** The signing feature as the rest of the server sees it (the Signer and ACM adapters, console, CLI). */
export interface SigningServices {
  certificates: SigningCertificatesService;
  profiles: SigningProfilesService;
  jobs: SigningJobsService;
  /** CreateJob's code-sign placeholder preprocessor. */
  documentSigner: JobDocumentSigner;
  /** The delivery-time check that the files of a document still match their signatures. */
  guard: SignatureGuard;
}

export interface SigningDeps {
  objects: SigningObjectStore;
  /** Seals private keys; the composition root opens it from FLEETJOBS_SIGNING_KEY or the data dir. */
  keyring?: SigningKeyring;
  /** The jobs feature, whose CreateJob and device document paths signing hooks into. */
  jobs: { jobs: JobsService; deviceJobs: DeviceJobsService };
}

export function createSigningServices(ctx: ServiceContext, deps: SigningDeps): SigningServices {
  const keyring = (): SigningKeyring => {
    if (!deps.keyring) {
      throw new ServiceError('ServiceUnavailable', 'Code signing is not available: this server has no signing key.');
    }
    return deps.keyring;
  };
  const objects = (): SigningObjectStore => deps.objects;
  const certificates = new SigningCertificatesService(ctx, keyring);
  const profiles = new SigningProfilesService(ctx, certificates);
  const jobs = new SigningJobsService(ctx, profiles, certificates, objects);
  const documentSigner = new JobDocumentSigner(ctx, profiles, jobs);
  const guard = new SignatureGuard(ctx, objects);
  deps.jobs.jobs.documentPreprocessors.push(documentSigner.preprocess);
  deps.jobs.deviceJobs.documentChecks.push(guard.check);
  return { certificates, profiles, jobs, documentSigner, guard };
}
