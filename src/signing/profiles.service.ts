import { randomInt } from 'node:crypto';
import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import { decodeToken, toPage } from '../store/pagination.js';
import type { SigningCertificatesService } from './certificates.service.js';
import {
  ENCRYPTION_ALGORITHMS,
  HASH_ALGORITHMS,
  IMAGE_FORMATS,
  requirePlatform,
  type EncryptionAlgorithm,
  type HashAlgorithm,
  type ImageFormat,
  type Platform,
} from './platforms.js';
import * as repo from './signing.repository.js';
import type { ProfileRow } from './signing.repository.js';
import {
  ACCOUNT_RULE,
  DEFAULT_PAGE,
  DEFAULT_VALIDITY,
  PAGE_RULE,
  parseJson,
  PROFILE_NAME_RULE,
  PROFILE_STATUSES,
  signerValidation,
  validateSigner,
  VALIDITY_TYPES,
} from './signing.schemas.js';

export interface Overrides {
  signingConfiguration?: { encryptionAlgorithm?: EncryptionAlgorithm; hashAlgorithm?: HashAlgorithm };
  signingImageFormat?: ImageFormat;
}

export interface PutSigningProfileInput {
  profileName: string;
  platformId?: string;
  signingMaterial?: { certificateArn?: string };
  signatureValidityPeriod?: { value?: number; type?: string };
  overrides?: Overrides;
  signingParameters?: Record<string, string>;
  tags?: Record<string, string>;
}

/** How a profile signs: the platform's defaults, with the profile's overrides applied. */
export interface EffectiveConfiguration {
  platform: Platform;
  encryption: EncryptionAlgorithm;
  hash: HashAlgorithm;
  imageFormat: ImageFormat;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const newProfileVersion = (): string => Array.from({ length: 10 }, () => ALNUM[randomInt(ALNUM.length)]).join('');

/** Signer signing profiles (spec 6.6): PutSigningProfile, Get, List, Cancel, and their tags. */
export class SigningProfilesService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly certificates: SigningCertificatesService,
  ) {}

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  arn(name: string): string {
    const { region, account } = this.ctx.arns.partition;
    return `arn:aws:signer:${region}:${account}:/signing-profiles/${name}`;
  }

  async putSigningProfile(input: PutSigningProfileInput) {
    checkPut(input);
    const platform = requirePlatform(input.platformId!);
    const config = effective(platform, input.overrides);
    if (await repo.findProfile(this.ctx.db, input.profileName)) throw exists(input.profileName);
    let certificateArn = input.signingMaterial?.certificateArn;
    if (certificateArn !== undefined) {
      this.certificates.checkArn(certificateArn, 'signingMaterial.certificateArn');
      const keyType = await this.certificates.encryptionOf(certificateArn);
      if (keyType !== config.encryption) {
        throw signerValidation(
          `Certificate ${certificateArn} has an ${keyType ?? 'unsupported'} key, but profile ${input.profileName} signs with ${config.encryption} (platform ${platform.platformId}).`,
        );
      }
    } else {
      // fleetjobs: a profile without signingMaterial gets a fresh key pair and certificate.
      certificateArn = await this.certificates.generate(config.encryption, `${input.profileName} code signing`);
    }
    const version = newProfileVersion();
    const validity = input.signatureValidityPeriod;
    try {
      await repo.insertProfile(this.ctx.db, {
        name: input.profileName,
        version,
        platform_id: platform.platformId,
        certificate_arn: certificateArn,
        signing_parameters: input.signingParameters ? JSON.stringify(input.signingParameters) : null,
        overrides: input.overrides ? JSON.stringify(input.overrides) : null,
        validity_value: validity?.value ?? DEFAULT_VALIDITY.value,
        validity_type: validity?.type ?? DEFAULT_VALIDITY.type,
        status: 'Active',
        tags: input.tags && Object.keys(input.tags).length > 0 ? JSON.stringify(input.tags) : null,
        created_at: this.now(),
        status_changed_at: null,
      });
    } catch (err) {
      if (await repo.findProfile(this.ctx.db, input.profileName)) throw exists(input.profileName);
      throw err;
    }
    const arn = this.arn(input.profileName);
    return { arn, profileVersion: version, profileVersionArn: `${arn}/${version}` };
  }

  async requireProfile(profileName: string, profileOwner?: string): Promise<ProfileRow> {
    validateSigner((v) => {
      if (v.required('profileName', profileName)) v.string('profileName', profileName, PROFILE_NAME_RULE);
      v.string('profileOwner', profileOwner, ACCOUNT_RULE);
    });
    const row =
      profileOwner === undefined || profileOwner === this.ctx.arns.partition.account
        ? await repo.findProfile(this.ctx.db, profileName)
        : undefined;
    if (!row) throw new ServiceError('ResourceNotFound', `Signing profile ${profileName} does not exist.`);
    return row;
  }

  async getSigningProfile(profileName: string, profileOwner?: string) {
    const row = await this.requireProfile(profileName, profileOwner);
    const platform = requirePlatform(row.platform_id);
    return {
      ...this.shape(row, platform),
      ...(row.overrides !== null && { overrides: JSON.parse(row.overrides) as Overrides }),
      ...(row.status !== 'Active' && { statusReason: `Profile ${row.status.toLowerCase()}` }),
    };
  }

  async listSigningProfiles(input: {
    includeCanceled?: boolean;
    maxResults?: number;
    nextToken?: string;
    platformId?: string;
    statuses?: string[];
  }) {
    validateSigner((v) => {
      v.boolean('includeCanceled', input.includeCanceled);
      v.number('maxResults', input.maxResults, PAGE_RULE);
      input.statuses?.forEach((s, i) => v.string(`statuses.${i + 1}`, s, { enum: PROFILE_STATUSES }));
    });
    const statuses =
      input.statuses && input.statuses.length > 0
        ? input.statuses
        : input.includeCanceled
          ? PROFILE_STATUSES
          : PROFILE_STATUSES.filter((s) => s !== 'Canceled');
    const limit = input.maxResults ?? DEFAULT_PAGE;
    const after = decodeToken(input.nextToken, 1)?.[0];
    const rows = await repo.listProfiles(this.ctx.db, {
      statuses,
      platformId: input.platformId,
      after: after === undefined ? undefined : String(after),
      limit,
    });
    const page = toPage(rows, limit, (r) => [r.name]);
    return {
      profiles: page.items.map((r) => this.shape(r, requirePlatform(r.platform_id))),
      ...(page.nextToken !== undefined && { nextToken: page.nextToken }),
    };
  }

  /** Active -> Canceled: the profile stays listed (includeCanceled) but signs nothing more. */
  async cancelSigningProfile(profileName: string): Promise<void> {
    const row = await this.requireProfile(profileName);
    if (row.status === 'Canceled') return;
    if (!(await repo.setProfileStatus(this.ctx.db, row.name, 'Active', 'Canceled', this.now()))) {
      throw signerValidation(`Signing profile ${profileName} is ${row.status} and cannot be canceled.`);
    }
  }

  /** The platform and algorithms a profile signs with. */
  configurationOf(row: ProfileRow): EffectiveConfiguration {
    return effective(requirePlatform(row.platform_id), parseJson<Overrides>(row.overrides));
  }

  // Tags (ListTagsForResource, TagResource, UntagResource on a profile ARN).

  private async profileOfArn(resourceArn: string): Promise<ProfileRow> {
    const prefix = `${this.arn('')}`;
    const name = resourceArn.startsWith(prefix) ? resourceArn.slice(prefix.length).split('/')[0] : undefined;
    const row = name ? await repo.findProfile(this.ctx.db, name) : undefined;
    if (!row) throw new ServiceError('ResourceNotFound', `Resource ${resourceArn} does not exist.`);
    return row;
  }

  async listTags(resourceArn: string): Promise<{ tags: Record<string, string> }> {
    const row = await this.profileOfArn(resourceArn);
    return { tags: parseJson<Record<string, string>>(row.tags) ?? {} };
  }

  async tagResource(resourceArn: string, tags: unknown): Promise<void> {
    validateSigner((v) => {
      if (v.required('tags', tags)) checkTagMap(v, tags);
    });
    const row = await this.profileOfArn(resourceArn);
    const merged = { ...parseJson<Record<string, string>>(row.tags), ...(tags as Record<string, string>) };
    if (Object.keys(merged).length > 200) throw signerValidation('A signing profile has at most 200 tags.');
    await repo.setProfileTags(this.ctx.db, row.name, JSON.stringify(merged));
  }

  async untagResource(resourceArn: string, tagKeys: string[]): Promise<void> {
    if (tagKeys.length === 0) throw signerValidation('tagKeys must name at least one tag.');
    const row = await this.profileOfArn(resourceArn);
    const tags = parseJson<Record<string, string>>(row.tags) ?? {};
    for (const k of tagKeys) delete tags[k];
    await repo.setProfileTags(this.ctx.db, row.name, Object.keys(tags).length > 0 ? JSON.stringify(tags) : null);
  }

  private shape(row: ProfileRow, platform: Platform) {
    const arn = this.arn(row.name);
    return {
      profileName: row.name,
      profileVersion: row.version,
      profileVersionArn: `${arn}/${row.version}`,
      signingMaterial: { certificateArn: row.certificate_arn },
      signatureValidityPeriod: { value: row.validity_value, type: row.validity_type },
      platformId: platform.platformId,
      platformDisplayName: platform.displayName,
      ...(row.signing_parameters !== null && {
        signingParameters: JSON.parse(row.signing_parameters) as Record<string, string>,
      }),
      status: row.status,
      arn,
      ...(row.tags !== null && { tags: JSON.parse(row.tags) as Record<string, string> }),
    };
  }
}

const exists = (name: string): ServiceError =>
  new ServiceError('Conflict', `Profile with name ${name} already exists.`);

function checkTagMap(v: Parameters<Parameters<typeof validateSigner>[0]>[0], tags: unknown): void {
  if (!v.stringMap('tags', tags, { key: { min: 1, max: 128 }, value: { max: 256 }, maxEntries: 200 })) return;
  if (Object.keys(tags).length === 0) v.fail('tags', tags, 'Member must have length greater than or equal to 1');
}

function checkPut(input: PutSigningProfileInput): void {
  validateSigner((v) => {
    if (v.required('profileName', input.profileName)) v.string('profileName', input.profileName, PROFILE_NAME_RULE);
    if (v.required('platformId', input.platformId)) v.string('platformId', input.platformId, { min: 1 });
    if (v.object('signingMaterial', input.signingMaterial)) {
      const arn = input.signingMaterial.certificateArn;
      if (v.required('signingMaterial.certificateArn', arn)) v.string('signingMaterial.certificateArn', arn);
    }
    const period = input.signatureValidityPeriod;
    if (v.object('signatureValidityPeriod', period)) {
      v.number('signatureValidityPeriod.value', period.value, { integer: true, min: 1 });
      v.string('signatureValidityPeriod.type', period.type, { enum: VALIDITY_TYPES });
      if ((period.value === undefined) !== (period.type === undefined)) {
        v.fail('signatureValidityPeriod', period, 'Member must have both value and type');
      }
    }
    if (v.object('overrides', input.overrides)) {
      const sc = input.overrides.signingConfiguration;
      if (v.object('overrides.signingConfiguration', sc)) {
        v.string('overrides.signingConfiguration.encryptionAlgorithm', sc.encryptionAlgorithm, {
          enum: ENCRYPTION_ALGORITHMS,
        });
        v.string('overrides.signingConfiguration.hashAlgorithm', sc.hashAlgorithm, { enum: HASH_ALGORITHMS });
      }
      v.string('overrides.signingImageFormat', input.overrides.signingImageFormat, { enum: IMAGE_FORMATS });
    }
    v.stringMap('signingParameters', input.signingParameters);
    if (input.tags !== undefined) checkTagMap(v, input.tags);
  });
}

function effective(platform: Platform, overrides: Overrides | undefined): EffectiveConfiguration {
  const encryption = overrides?.signingConfiguration?.encryptionAlgorithm ?? platform.encryption.default;
  const hash = overrides?.signingConfiguration?.hashAlgorithm ?? platform.hash.default;
  const imageFormat = overrides?.signingImageFormat ?? platform.imageFormat.default;
  if (!platform.encryption.allowed.includes(encryption)) {
    throw signerValidation(
      `Platform ${platform.platformId} signs with ${platform.encryption.allowed.join(' or ')}, not ${encryption}.`,
    );
  }
  if (!platform.hash.allowed.includes(hash)) {
    throw signerValidation(
      `Platform ${platform.platformId} hashes with ${platform.hash.allowed.join(' or ')}, not ${hash}.`,
    );
  }
  if (!platform.imageFormat.supported.includes(imageFormat)) {
    throw signerValidation(
      `Platform ${platform.platformId} supports the image formats ${platform.imageFormat.supported.join(', ')}, not ${imageFormat}.`,
    );
  }
  return { platform, encryption, hash, imageFormat };
}
