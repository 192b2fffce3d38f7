import { ServiceError } from '../errors.js';

/** Signer's algorithm and format enumerations (botocore signer 2017-08-25). */
export const ENCRYPTION_ALGORITHMS = ['RSA', 'ECDSA'] as const;
export type EncryptionAlgorithm = (typeof ENCRYPTION_ALGORITHMS)[number];
export const HASH_ALGORITHMS = ['SHA1', 'SHA256'] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];
export const IMAGE_FORMATS = ['JSON', 'JSONEmbedded', 'JSONDetached'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export interface Platform {
  platformId: string;
  displayName: string;
  partner: string;
  target: string;
  category: 'AWSIoT';
  encryption: { allowed: readonly EncryptionAlgorithm[]; default: EncryptionAlgorithm };
  hash: { allowed: readonly HashAlgorithm[]; default: HashAlgorithm };
  imageFormat: { supported: readonly ImageFormat[]; default: ImageFormat };
  maxSizeInMB: number;
  revocationSupported: boolean;
}

/**
 * The platforms this server signs for (spec 6.6): the three AWS IoT ones, plus our own RSA
 * SHA-256 platform for fleets whose devices verify RSA rather than ECDSA.
 */
export const PLATFORMS: readonly Platform[] = [
  {
    platformId: 'AWSIoTDeviceManagement-SHA256-ECDSA',
    displayName: 'AWS IoT Device Management SHA256-ECDSA ',
    partner: 'AWSIoTDeviceManagement',
    target: 'SHA256-ECDSA',
    category: 'AWSIoT',
    encryption: { allowed: ['ECDSA'], default: 'ECDSA' },
    hash: { allowed: ['SHA256'], default: 'SHA256' },
    imageFormat: { supported: ['JSONDetached'], default: 'JSONDetached' },
    maxSizeInMB: 2048,
    revocationSupported: false,
  },
  {
    platformId: 'AmazonFreeRTOS-Default',
    displayName: 'Amazon FreeRTOS SHA256-ECDSA',
    partner: 'AmazonFreeRTOS',
    target: 'SHA256-ECDSA',
    category: 'AWSIoT',
    encryption: { allowed: ['ECDSA'], default: 'ECDSA' },
    hash: { allowed: ['SHA256'], default: 'SHA256' },
    imageFormat: { supported: ['JSONEmbedded'], default: 'JSONEmbedded' },
    maxSizeInMB: 16,
    revocationSupported: false,
  },
  {
    platformId: 'AmazonFreeRTOS-TI-CC3220SF',
    displayName: 'Amazon FreeRTOS SHA1-RSA CC3220SF-Format',
    partner: 'AmazonFreeRTOS',
    target: 'SHA1-RSA-TISHA1',
    category: 'AWSIoT',
    encryption: { allowed: ['RSA'], default: 'RSA' },
    hash: { allowed: ['SHA1'], default: 'SHA1' },
    imageFormat: { supported: ['JSONEmbedded'], default: 'JSONEmbedded' },
    maxSizeInMB: 16,
    revocationSupported: false,
  },
  {
    platformId: 'fleetjobs-SHA256-RSA',
    displayName: 'fleetjobs SHA256-RSA',
    partner: 'fleetjobs',
    target: 'SHA256-RSA',
    category: 'AWSIoT',
    encryption: { allowed: ['RSA'], default: 'RSA' },
    hash: { allowed: ['SHA256'], default: 'SHA256' },
    imageFormat: { supported: ['JSONDetached'], default: 'JSONDetached' },
    maxSizeInMB: 2048,
    revocationSupported: false,
  },
];

export function findPlatform(platformId: string): Platform | undefined {
  return PLATFORMS.find((p) => p.platformId === platformId);
}

export function requirePlatform(platformId: string): Platform {
  const p = findPlatform(platformId);
  if (!p) throw new ServiceError('ResourceNotFound', `Signing platform ${platformId} does not exist.`);
  return p;
}

/** The AWS wire shape of a platform (GetSigningPlatform, ListSigningPlatforms). */
export function platformShape(p: Platform) {
  return {
    platformId: p.platformId,
    displayName: p.displayName,
    partner: p.partner,
    target: p.target,
    category: p.category,
    signingConfiguration: {
      encryptionAlgorithmOptions: { allowedValues: [...p.encryption.allowed], defaultValue: p.encryption.default },
      hashAlgorithmOptions: { allowedValues: [...p.hash.allowed], defaultValue: p.hash.default },
    },
    signingImageFormat: { supportedFormats: [...p.imageFormat.supported], defaultFormat: p.imageFormat.default },
    maxSizeInMB: p.maxSizeInMB,
    revocationSupported: p.revocationSupported,
  };
}

/** The names Java (and AWS Signer's signed objects) give a hash/encryption pair, spec 6.4. */
export const signatureAlgorithmName = (hash: HashAlgorithm, encryption: EncryptionAlgorithm): string =>
  `${hash}with${encryption}`;
