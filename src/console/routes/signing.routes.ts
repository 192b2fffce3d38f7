import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CreateJobInput } from '../../jobs/jobs.schemas.js';
import { Arns } from '../../arns.js';
import { ServiceError } from '../../errors.js';
import { DEFAULT_PROFILE_TAG } from '../../signing/job-document-signer.js';
import { PLATFORMS, platformShape } from '../../signing/platforms.js';
import type { PutSigningProfileInput } from '../../signing/profiles.service.js';
import { json, type ConsoleDeps } from '../console-app.js';
import { jsonBody, nonEmpty, optionalInt, query } from '../http.js';

const params = (request: FastifyRequest): Record<string, string> => request.params as Record<string, string>;

/** Code-signing profiles, and the document a new job would store (signatures filled in). */
export function registerSigningRoutes(api: FastifyInstance, deps: ConsoleDeps): void {
  const { signing, jobs } = deps.services;
  /** Every profile, retired ones too (Signer pages by 25; a console lists a handful). */
  const allProfiles = async () => {
    const out = [];
    let nextToken: string | undefined;
    do {
      const page = await signing.profiles.listSigningProfiles({ maxResults: 25, includeCanceled: true, nextToken });
      out.push(...page.profiles);
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  };

  api.get(
    '/signing/platforms',
    json(async () => ({ platforms: PLATFORMS.map(platformShape) })),
  );
  api.get(
    '/signing/profiles',
    json(async () => ({ profiles: await allProfiles() })),
  );
  api.post(
    '/signing/profiles',
    json(async (request) =>
      signing.profiles.putSigningProfile((await jsonBody(request)) as unknown as PutSigningProfileInput),
    ),
  );
  /** Makes this profile the one CreateJob takes when a job names none (and no other). */
  api.post(
    '/signing/profiles/:profileName/default',
    json(async (request) => {
      const chosen = await signing.profiles.getSigningProfile(params(request).profileName!);
      if (chosen.status !== 'Active') {
        throw new ServiceError('InvalidRequest', `Signing profile ${chosen.profileName} is ${chosen.status}.`);
      }
      for (const p of await allProfiles()) {
        if (p.profileName !== chosen.profileName && p.tags?.[DEFAULT_PROFILE_TAG] !== undefined)
          await signing.profiles.untagResource(p.arn, [DEFAULT_PROFILE_TAG]);
      }
      await signing.profiles.tagResource(chosen.arn, { [DEFAULT_PROFILE_TAG]: 'true' });
      return {};
    }),
  );
  /** Retires a profile (Signer's CancelSigningProfile): it stays listed but signs nothing more. */
  api.post(
    '/signing/profiles/:profileName/cancel',
    json(async (request) => {
      await signing.profiles.cancelSigningProfile(params(request).profileName!);
      return {};
    }),
  );
  /** The profile's certificate (PEM), what devices verify signatures with. */
  api.get(
    '/signing/profiles/:profileName/certificate',
    json(async (request) => {
      const p = await signing.profiles.getSigningProfile(params(request).profileName!);
      const { Certificate } = await signing.certificates.getCertificate(p.signingMaterial.certificateArn);
      return { profileName: p.profileName, certificatePem: Certificate };
    }),
  );
  /** Signing jobs, newest first; `jobId` lists those made for one IoT job at its creation. */
  api.get(
    '/signing/jobs',
    json(async (request) => {
      const q = query(request);
      const jobId = nonEmpty(q.jobId);
      return signing.jobs.listSigningJobs({
        maxResults: optionalInt(q.maxResults, 'maxResults') ?? 25,
        nextToken: nonEmpty(q.nextToken),
        ...(jobId !== undefined && { requestedBy: new Arns(deps.partition).job(jobId) }),
      });
    }),
  );
  /**
   * Runs CreateJob's own document checks on a document without creating the job: the code-sign
   * step as a dry run (the profile, the object version and the algorithm are checked; nothing is
   * signed, so visiting the review twice makes no signing job), the others as they are. The job is
   * signed once, by CreateJob, with the profile in its codeSigning member.
   */
  api.post(
    '/jobs/preview-document',
    json(async (request) => {
      const input = (await jsonBody(request)) as unknown as CreateJobInput;
      let document = input.document ?? '';
      for (const preprocess of jobs.documentPreprocessors) {
        document =
          preprocess === signing.documentSigner.preprocess
            ? await signing.documentSigner.preview(document, input)
            : await preprocess(document, input);
      }
      return { document };
    }),
  );
}
