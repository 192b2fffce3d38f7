import type { FastifyInstance } from 'fastify';
import type { CreateJobInput } from '../../jobs/jobs.schemas.js';
import { PLATFORMS, platformShape } from '../../signing/platforms.js';
import type { PutSigningProfileInput } from '../../signing/profiles.service.js';
import { json, type ConsoleDeps } from '../console-app.js';
import { jsonBody } from '../http.js';

/** Code-signing profiles, and the document a new job would store (signatures filled in). */
export function registerSigningRoutes(api: FastifyInstance, deps: ConsoleDeps): void {
  const { signing, jobs } = deps.services;

  api.get(
    '/signing/platforms',
    json(async () => ({ platforms: PLATFORMS.map(platformShape) })),
  );
  api.get(
    '/signing/profiles',
    json(async () => signing.profiles.listSigningProfiles({ maxResults: 25 })),
  );
  api.post(
    '/signing/profiles',
    json(async (request) =>
      signing.profiles.putSigningProfile((await jsonBody(request)) as unknown as PutSigningProfileInput),
    ),
  );
  /**
   * Runs CreateJob's own document preprocessors (code signing, spec 6.3) on an inline document
   * without creating the job, as the AWS console signs before it creates: the review page shows
   * this text, and the job is then created with exactly it.
   */
  api.post(
    '/jobs/preview-document',
    json(async (request) => {
      const input = (await jsonBody(request)) as unknown as CreateJobInput;
      let document = input.document ?? '';
      for (const preprocess of jobs.documentPreprocessors) document = await preprocess(document, input);
      return { document };
    }),
  );
}
