import { ServiceError } from '../errors.js';
import { validate, type StringRule, type Validator } from '../validation.js';

/** Signer's enumerations and constraints (botocore signer 2017-08-25, spec 6.6). */
export const PROFILE_STATUSES = ['Active', 'Canceled', 'Revoked'] as const;
export type ProfileStatus = (typeof PROFILE_STATUSES)[number];

export const SIGNING_STATUSES = ['InProgress', 'Failed', 'Succeeded'] as const;
export type SigningStatus = (typeof SIGNING_STATUSES)[number];

export const VALIDITY_TYPES = ['DAYS', 'MONTHS', 'YEARS'] as const;
export type ValidityType = (typeof VALIDITY_TYPES)[number];

/** spec 6.6: signatureValidityPeriod defaults to 135 months. */
export const DEFAULT_VALIDITY = { value: 135, type: 'MONTHS' as ValidityType };

export const PROFILE_NAME_RULE: StringRule = { min: 2, max: 64, pattern: /^[a-zA-Z0-9_]{2,}$/ };
export const ACCOUNT_RULE: StringRule = { min: 12, max: 12, pattern: /^[0-9]{12}$/ };
export const PAGE_RULE = { min: 1, max: 25, integer: true };
export const DEFAULT_PAGE = 25;

/** Signer answers bad input with ValidationException (400), not IoT's InvalidRequestException. */
export function validateSigner(build: (v: Validator) => void): void {
  try {
    validate(build);
  } catch (err) {
    if (err instanceof ServiceError && err.code === 'InvalidRequest') throw new ServiceError('Validation', err.message);
    throw err;
  }
}

export const signerValidation = (message: string): ServiceError => new ServiceError('Validation', message);

/** A validity period added to a time (calendar months and years, as Signer counts them). */
export function addValidity(fromMs: number, period: { value: number; type: string }): number {
  const d = new Date(fromMs);
  if (period.type === 'DAYS') d.setUTCDate(d.getUTCDate() + period.value);
  else if (period.type === 'YEARS') d.setUTCFullYear(d.getUTCFullYear() + period.value);
  else d.setUTCMonth(d.getUTCMonth() + period.value);
  return d.getTime();
}

/** rest-json timestamps are epoch seconds (spec 1.6). */
export const seconds = (ms: number | null): number | undefined => (ms === null ? undefined : ms / 1000);

export const parseJson = <T>(text: string | null): T | undefined =>
  text === null ? undefined : (JSON.parse(text) as T);
