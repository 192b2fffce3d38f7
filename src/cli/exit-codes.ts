/**
 * The CLI's exit codes, one table (README "Exit codes" is checked against it by a test).
 * Scripts can branch on them: `fleetjobs things describe x || [ $? -eq 3 ] && ...`.
 */
export const EXIT_CODES = {
  ok: { code: 0, meaning: 'success' },
  service: { code: 1, meaning: 'the service failed the request (5xx, throttling, unexpected error)' },
  usage: { code: 2, meaning: 'usage or configuration error (bad flag, missing file, no server configured)' },
  notFound: { code: 3, meaning: 'not found (ResourceNotFoundException, NoSuchEntity, NoSuchKey, NoSuchBucket)' },
  conflict: {
    code: 4,
    meaning: 'conflict (already exists, version conflict, invalid state transition, delete conflict)',
  },
  invalid: { code: 5, meaning: 'the service rejected the request as invalid (InvalidRequestException, ...)' },
  denied: { code: 6, meaning: 'authentication or authorization failed (bad credentials, AccessDenied)' },
  unreachable: { code: 7, meaning: 'the server could not be reached (connection refused, DNS, TLS)' },
  jobNotSucceeded: {
    code: 8,
    meaning:
      '`jobs watch`: the job ended CANCELED, or some executions did not succeed (`ota watch`: or the OTA update failed)',
  },
  badSignature: { code: 9, meaning: '`verify`: the signature does not match the file' },
  interrupted: { code: 130, meaning: 'interrupted (Ctrl-C)' },
} as const;

export type ExitKind = keyof typeof EXIT_CODES;

/** An error that ends the CLI with a given exit code and a one-line message. */
export class CliError extends Error {
  constructor(
    readonly kind: ExitKind,
    message: string,
  ) {
    super(message);
  }
  get exitCode(): number {
    return EXIT_CODES[this.kind].code;
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super('usage', message);
  }
}

const BY_NAME: Record<string, ExitKind> = {
  ResourceNotFoundException: 'notFound',
  NoSuchEntity: 'notFound',
  NoSuchEntityException: 'notFound',
  NoSuchKey: 'notFound',
  NoSuchBucket: 'notFound',
  NoSuchVersion: 'notFound',
  NoSuchUpload: 'notFound',
  NotFound: 'notFound',
  ResourceAlreadyExistsException: 'conflict',
  ConflictException: 'conflict',
  VersionConflictException: 'conflict',
  InvalidStateTransitionException: 'conflict',
  DeleteConflictException: 'conflict',
  DeleteConflict: 'conflict',
  CertificateConflictException: 'conflict',
  CertificateStateException: 'conflict',
  EntityAlreadyExists: 'conflict',
  EntityAlreadyExistsException: 'conflict',
  BucketAlreadyOwnedByYou: 'conflict',
  BucketAlreadyExists: 'conflict',
  BucketNotEmpty: 'conflict',
  InvalidRequestException: 'invalid',
  ValidationException: 'invalid',
  InvalidQueryException: 'invalid',
  CertificateValidationException: 'invalid',
  MalformedPolicyDocument: 'invalid',
  MalformedPolicyDocumentException: 'invalid',
  InvalidArgument: 'invalid',
  InvalidBucketName: 'invalid',
  InvalidInput: 'invalid',
  InvalidInputException: 'invalid',
  BadRequestException: 'invalid',
  LimitExceededException: 'invalid',
  UnauthorizedException: 'denied',
  AccessDeniedException: 'denied',
  AccessDenied: 'denied',
  InvalidSignatureException: 'denied',
  SignatureDoesNotMatch: 'denied',
  UnrecognizedClientException: 'denied',
  InvalidAccessKeyId: 'denied',
  MissingAuthenticationTokenException: 'denied',
  ExpiredTokenException: 'denied',
};

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

interface SdkLikeError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $fault?: 'client' | 'server';
  cause?: unknown;
}

/** The exit kind of any error an SDK call or the CLI itself can throw. */
export function classify(err: unknown): ExitKind {
  if (err instanceof CliError) return err.kind;
  const e = (err ?? {}) as SdkLikeError;
  const name = e.name ?? '';
  if (BY_NAME[name]) return BY_NAME[name];
  if (isNetworkError(e)) return 'unreachable';
  const status = e.$metadata?.httpStatusCode;
  if (status === 404) return 'notFound';
  if (status === 409) return 'conflict';
  if (status === 401 || status === 403) return 'denied';
  if (status !== undefined && status >= 400 && status < 500) return 'invalid';
  return 'service';
}

function isNetworkError(e: SdkLikeError, depth = 0): boolean {
  if (depth > 3 || typeof e !== 'object' || e === null) return false;
  if (e.code && NETWORK_CODES.has(e.code)) return true;
  if (e.name === 'TimeoutError') return true;
  return isNetworkError((e.cause ?? {}) as SdkLikeError, depth + 1);
}

/** One readable line: `ResourceNotFoundException: Thing x cannot be found.` */
export function describeError(err: unknown): string {
  if (err instanceof CliError) return err.message;
  const e = (err ?? {}) as SdkLikeError;
  const message = oneLine(e.message ?? String(err));
  if (isNetworkError(e)) {
    const code = findCode(e);
    return `cannot reach the server${code ? ` (${code})` : ''}: ${message}`;
  }
  const name = e.name && e.name !== 'Error' ? e.name : undefined;
  if (!name) return message;
  // The SDK uses the name as message when the service sent none (e.g. S3 HEAD 404 "NotFound").
  if (message === '' || message === name || message === 'UnknownError') {
    const status = e.$metadata?.httpStatusCode;
    return `${name}${status ? ` (HTTP ${status})` : ''}`;
  }
  return `${name}: ${message}`;
}

function findCode(e: SdkLikeError, depth = 0): string | undefined {
  if (depth > 3 || typeof e !== 'object' || e === null) return undefined;
  if (e.code && NETWORK_CODES.has(e.code)) return e.code;
  return findCode((e.cause ?? {}) as SdkLikeError, depth + 1);
}

export const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').trim();
