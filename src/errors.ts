/**
 * The one error catalogue. A service throws ServiceError(code); each protocol adapter
 * renders it from this table (spec 1.7 for HTTP, spec 5.5 for MQTT).
 */
interface ErrorMapping {
  /** HTTP status on the control plane (and every plane that does not override it). */
  readonly http: number;
  /** AWS error name sent in x-amzn-ErrorType. */
  readonly aws: string;
  /** Code in an MQTT .../rejected payload. */
  readonly mqtt: string;
  /** spec 1.7: the data plane models some errors differently. */
  readonly dataPlane?: { readonly http: number; readonly aws: string };
}

export const ERROR_CATALOGUE = {
  InvalidRequest: { http: 400, aws: 'InvalidRequestException', mqtt: 'InvalidRequest' },
  InvalidJson: { http: 400, aws: 'InvalidRequestException', mqtt: 'InvalidJson' },
  InvalidTopic: { http: 400, aws: 'InvalidRequestException', mqtt: 'InvalidTopic' },
  InvalidQuery: { http: 400, aws: 'InvalidQueryException', mqtt: 'InvalidRequest' },
  Validation: { http: 400, aws: 'ValidationException', mqtt: 'InvalidRequest' },
  CertificateValidation: { http: 400, aws: 'CertificateValidationException', mqtt: 'InvalidRequest' },
  // spec 0.8: control-plane throttling is 400, data-plane throttling 429.
  Throttling: {
    http: 400,
    aws: 'ThrottlingException',
    mqtt: 'RequestThrottled',
    dataPlane: { http: 429, aws: 'ThrottlingException' },
  },
  Unauthorized: { http: 401, aws: 'UnauthorizedException', mqtt: 'InvalidRequest' },
  ServiceQuotaExceeded: { http: 402, aws: 'ServiceQuotaExceededException', mqtt: 'InvalidRequest' },
  AccessDenied: { http: 403, aws: 'AccessDeniedException', mqtt: 'InvalidRequest' },
  MissingAuthenticationToken: { http: 403, aws: 'MissingAuthenticationTokenException', mqtt: 'InvalidRequest' },
  InvalidSignature: { http: 403, aws: 'InvalidSignatureException', mqtt: 'InvalidRequest' },
  UnrecognizedClient: { http: 403, aws: 'UnrecognizedClientException', mqtt: 'InvalidRequest' },
  ResourceNotFound: { http: 404, aws: 'ResourceNotFoundException', mqtt: 'ResourceNotFound' },
  UnknownOperation: { http: 404, aws: 'UnknownOperationException', mqtt: 'InvalidTopic' },
  ResourceAlreadyExists: { http: 409, aws: 'ResourceAlreadyExistsException', mqtt: 'InvalidRequest' },
  Conflict: { http: 409, aws: 'ConflictException', mqtt: 'InvalidRequest' },
  // spec 1.7: the data plane declares no VersionConflict; 409 InvalidStateTransition is used there.
  VersionConflict: {
    http: 409,
    aws: 'VersionConflictException',
    mqtt: 'VersionMismatch',
    dataPlane: { http: 409, aws: 'InvalidStateTransitionException' },
  },
  InvalidStateTransition: { http: 409, aws: 'InvalidStateTransitionException', mqtt: 'InvalidStateTransition' },
  DeleteConflict: { http: 409, aws: 'DeleteConflictException', mqtt: 'InvalidRequest' },
  LimitExceeded: { http: 410, aws: 'LimitExceededException', mqtt: 'InvalidRequest' },
  TerminalState: { http: 410, aws: 'TerminalStateException', mqtt: 'TerminalStateReached' },
  InternalFailure: { http: 500, aws: 'InternalFailureException', mqtt: 'InternalError' },
  ServiceUnavailable: { http: 503, aws: 'ServiceUnavailableException', mqtt: 'InternalError' },
} as const satisfies Record<string, ErrorMapping>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class ServiceError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra members of the AWS error shape (e.g. resourceId, resourceArn) or MQTT executionState. */
    readonly extras: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = ERROR_CATALOGUE[code].aws;
  }
}

export type Plane = 'control' | 'data';

export function errorMapping(code: ErrorCode, plane: Plane = 'control'): { http: number; aws: string; mqtt: string } {
  const entry: ErrorMapping = ERROR_CATALOGUE[code];
  const override = plane === 'data' ? entry.dataPlane : undefined;
  return { http: override?.http ?? entry.http, aws: override?.aws ?? entry.aws, mqtt: entry.mqtt };
}

export const notFound = (what: string): ServiceError => new ServiceError('ResourceNotFound', `${what} does not exist`);
export const invalid = (message: string): ServiceError => new ServiceError('InvalidRequest', message);
