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
  IndexNotReady: { http: 400, aws: 'IndexNotReadyException', mqtt: 'InvalidRequest' },
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
  // SigV4 refusals S3 names apart (s3.errors.ts); the JSON services call them InvalidSignature.
  RequestTimeTooSkewed: { http: 403, aws: 'InvalidSignatureException', mqtt: 'InvalidRequest' },
  WrongSigningRegion: { http: 403, aws: 'InvalidSignatureException', mqtt: 'InvalidRequest' },
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
  CertificateConflict: { http: 409, aws: 'CertificateConflictException', mqtt: 'InvalidRequest' },
  CertificateState: { http: 406, aws: 'CertificateStateException', mqtt: 'InvalidRequest' },
  // A request body over the listener's limit (JSON APIs: 1 MiB); the connection is closed after.
  PayloadTooLarge: { http: 413, aws: 'RequestEntityTooLargeException', mqtt: 'InvalidRequest' },
  LimitExceeded: { http: 410, aws: 'LimitExceededException', mqtt: 'InvalidRequest' },
  TerminalState: { http: 410, aws: 'TerminalStateException', mqtt: 'TerminalStateReached' },
  InternalFailure: { http: 500, aws: 'InternalFailureException', mqtt: 'InternalError' },
  ServiceUnavailable: { http: 503, aws: 'ServiceUnavailableException', mqtt: 'InternalError' },
  // S3 (restXml): the aws name is the S3 error Code element.
  NoSuchBucket: { http: 404, aws: 'NoSuchBucket', mqtt: 'InvalidRequest' },
  NoSuchKey: { http: 404, aws: 'NoSuchKey', mqtt: 'InvalidRequest' },
  NoSuchVersion: { http: 404, aws: 'NoSuchVersion', mqtt: 'InvalidRequest' },
  NoSuchUpload: { http: 404, aws: 'NoSuchUpload', mqtt: 'InvalidRequest' },
  BucketAlreadyOwnedByYou: { http: 409, aws: 'BucketAlreadyOwnedByYou', mqtt: 'InvalidRequest' },
  BucketNotEmpty: { http: 409, aws: 'BucketNotEmpty', mqtt: 'InvalidRequest' },
  InvalidBucketName: { http: 400, aws: 'InvalidBucketName', mqtt: 'InvalidRequest' },
  InvalidArgument: { http: 400, aws: 'InvalidArgument', mqtt: 'InvalidRequest' },
  InvalidRange: { http: 416, aws: 'InvalidRange', mqtt: 'InvalidRequest' },
  InvalidPart: { http: 400, aws: 'InvalidPart', mqtt: 'InvalidRequest' },
  InvalidPartOrder: { http: 400, aws: 'InvalidPartOrder', mqtt: 'InvalidRequest' },
  EntityTooSmall: { http: 400, aws: 'EntityTooSmall', mqtt: 'InvalidRequest' },
  EntityTooLarge: { http: 400, aws: 'EntityTooLarge', mqtt: 'InvalidRequest' },
  BadDigest: { http: 400, aws: 'BadDigest', mqtt: 'InvalidRequest' },
  InvalidDigest: { http: 400, aws: 'InvalidDigest', mqtt: 'InvalidRequest' },
  XAmzContentSHA256Mismatch: { http: 400, aws: 'XAmzContentSHA256Mismatch', mqtt: 'InvalidRequest' },
  IncompleteBody: { http: 400, aws: 'IncompleteBody', mqtt: 'InvalidRequest' },
  MalformedXML: { http: 400, aws: 'MalformedXML', mqtt: 'InvalidRequest' },
  MethodNotAllowed: { http: 405, aws: 'MethodNotAllowed', mqtt: 'InvalidRequest' },
  MissingContentLength: { http: 411, aws: 'MissingContentLength', mqtt: 'InvalidRequest' },
  PreconditionFailed: { http: 412, aws: 'PreconditionFailed', mqtt: 'InvalidRequest' },
  NotModified: { http: 304, aws: 'NotModified', mqtt: 'InvalidRequest' },
  InvalidToken: { http: 400, aws: 'InvalidToken', mqtt: 'InvalidRequest' },
  NotImplemented: { http: 501, aws: 'NotImplemented', mqtt: 'InvalidRequest' },
  // IAM (query protocol): the aws name is the IAM error Code element.
  NoSuchEntity: { http: 404, aws: 'NoSuchEntity', mqtt: 'InvalidRequest' },
  EntityAlreadyExists: { http: 409, aws: 'EntityAlreadyExists', mqtt: 'InvalidRequest' },
  MalformedPolicyDocument: { http: 400, aws: 'MalformedPolicyDocument', mqtt: 'InvalidRequest' },
  // MQTT-based file delivery (streams, issue 20): the codes of .../streams/<id>/rejected/<fmt>
  // (AWS IoT developer guide, "Handling errors from the AWS IoT Streaming service").
  InvalidCbor: { http: 400, aws: 'InvalidRequestException', mqtt: 'InvalidCbor' },
  BlockSizeOutOfBounds: { http: 400, aws: 'InvalidRequestException', mqtt: 'BlockSizeOutOfBounds' },
  OffsetOutOfBounds: { http: 400, aws: 'InvalidRequestException', mqtt: 'OffsetOutOfBounds' },
  BlockCountLimitExceeded: { http: 400, aws: 'InvalidRequestException', mqtt: 'BlockCountLimitExceeded' },
  BlockBitmapLimitExceeded: { http: 400, aws: 'InvalidRequestException', mqtt: 'BlockBitmapLimitExceeded' },
  ETagMismatch: { http: 409, aws: 'ConflictException', mqtt: 'ETagMismatch' },
  // The stream's role may not read a file (the role, not the device, lacks the right).
  StorageUnauthorized: { http: 403, aws: 'AccessDeniedException', mqtt: 'Unauthorized' },
  // ACM (awsJson) and Signer: certificates and profiles for code signing.
  InvalidParameter: { http: 400, aws: 'InvalidParameterException', mqtt: 'InvalidRequest' },
  InvalidArn: { http: 400, aws: 'InvalidArnException', mqtt: 'InvalidRequest' },
  ResourceInUse: { http: 400, aws: 'ResourceInUseException', mqtt: 'InvalidRequest' },
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
