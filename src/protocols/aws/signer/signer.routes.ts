import { ServiceError } from '../../../errors.js';
import { PLATFORMS, platformShape, requirePlatform } from '../../../signing/platforms.js';
import type { SigningServices } from '../../../signing/signing.services.js';
import { DEFAULT_PAGE, PAGE_RULE, validateSigner } from '../../../signing/signing.schemas.js';
import { decodeToken, encodeToken } from '../../../store/pagination.js';
import type { RestJsonAdapter } from '../adapter.js';
import type { AwsRequest } from '../request.js';

// Bodies are passed through as the service's input type: the services check every member's type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = (req: AwsRequest): any => req.body ?? {};

/** rest-json timestamps in a query string are ISO 8601 (the SDKs) or epoch seconds. */
function timestamp(req: AwsRequest, name: string): Date | undefined {
  const raw = req.query.string(name);
  if (raw === undefined) return undefined;
  const ms = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) * 1000 : Date.parse(raw);
  if (Number.isNaN(ms)) throw new ServiceError('Validation', `${name} '${raw}' is not a timestamp.`);
  return new Date(ms);
}

/** spec 6.6: the AWS Signer API (signing name `signer`, rest-json, 2017-08-25). */
export function registerSignerRoutes(api: RestJsonAdapter, s: SigningServices): void {
  api
    .add('GET', '/signing-platforms', 'ListSigningPlatforms', async (r) =>
      listPlatforms({
        category: r.query.string('category'),
        partner: r.query.string('partner'),
        target: r.query.string('target'),
        maxResults: r.query.int('maxResults'),
        nextToken: r.query.string('nextToken'),
      }),
    )
    .add('GET', '/signing-platforms/{platformId}', 'GetSigningPlatform', async (r) =>
      platformShape(requirePlatform(r.params.platformId!)),
    )
    .add('PUT', '/signing-profiles/{profileName}', 'PutSigningProfile', (r) =>
      s.profiles.putSigningProfile({ ...body(r), profileName: r.params.profileName! }),
    )
    .add('GET', '/signing-profiles/{profileName}', 'GetSigningProfile', (r) =>
      s.profiles.getSigningProfile(r.params.profileName!, r.query.string('profileOwner')),
    )
    .add('GET', '/signing-profiles', 'ListSigningProfiles', (r) =>
      s.profiles.listSigningProfiles({
        includeCanceled: r.query.bool('includeCanceled'),
        maxResults: r.query.int('maxResults'),
        nextToken: r.query.string('nextToken'),
        platformId: r.query.string('platformId'),
        statuses: r.query.all('statuses'),
      }),
    )
    .add('DELETE', '/signing-profiles/{profileName}', 'CancelSigningProfile', async (r) => {
      await s.profiles.cancelSigningProfile(r.params.profileName!);
      return {};
    })
    .add('POST', '/signing-jobs', 'StartSigningJob', (r) => s.jobs.startSigningJob(body(r), r.principal.arn))
    .add('GET', '/signing-jobs/{jobId}', 'DescribeSigningJob', (r) => s.jobs.describeSigningJob(r.params.jobId!))
    .add('GET', '/signing-jobs', 'ListSigningJobs', (r) =>
      s.jobs.listSigningJobs({
        status: r.query.string('status'),
        platformId: r.query.string('platformId'),
        requestedBy: r.query.string('requestedBy'),
        maxResults: r.query.int('maxResults'),
        nextToken: r.query.string('nextToken'),
        isRevoked: r.query.bool('isRevoked'),
        signatureExpiresBefore: timestamp(r, 'signatureExpiresBefore'),
        signatureExpiresAfter: timestamp(r, 'signatureExpiresAfter'),
        jobInvoker: r.query.string('jobInvoker'),
      }),
    )
    // A profile ARN holds '/': clients may or may not percent-encode it, so the label is greedy.
    .add('GET', '/tags/{resourceArn+}', 'ListTagsForResource', (r) => s.profiles.listTags(r.params.resourceArn!))
    .add('POST', '/tags/{resourceArn+}', 'TagResource', async (r) => {
      await s.profiles.tagResource(r.params.resourceArn!, body(r).tags);
      return {};
    })
    .add('DELETE', '/tags/{resourceArn+}', 'UntagResource', async (r) => {
      await s.profiles.untagResource(r.params.resourceArn!, r.query.all('tagKeys'));
      return {};
    });
}

function listPlatforms(input: {
  category?: string;
  partner?: string;
  target?: string;
  maxResults?: number;
  nextToken?: string;
}) {
  validateSigner((v) => v.number('maxResults', input.maxResults, PAGE_RULE));
  const matching = PLATFORMS.filter(
    (p) =>
      (input.category === undefined || p.category === input.category) &&
      (input.partner === undefined || p.partner === input.partner) &&
      (input.target === undefined || p.target === input.target),
  );
  const start = Number(decodeToken(input.nextToken, 1)?.[0] ?? 0);
  const limit = input.maxResults ?? DEFAULT_PAGE;
  const page = matching.slice(start, start + limit);
  return {
    platforms: page.map(platformShape),
    ...(start + limit < matching.length && { nextToken: encodeToken([start + limit]) }),
  };
}
