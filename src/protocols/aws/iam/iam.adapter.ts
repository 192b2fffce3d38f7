import type { FastifyReply } from 'fastify';
import type { Readable } from 'node:stream';
import { errorMapping, ServiceError, type ErrorCode } from '../../../errors.js';
import type { PoliciesService } from '../../../iam/policies.service.js';
import type { RolesService } from '../../../iam/roles.service.js';
import type { AwsServiceAdapter } from '../adapter.js';
import type { AwsRequest } from '../request.js';
import { toXml, xmlDocument } from '../xml.js';
import { iamActions, type IamAction } from './iam.actions.js';
import { QueryInput } from './query-params.js';

export const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
export const IAM_VERSION = '2010-05-08';

/** Generic catalogue codes as IAM names them (IAM's own codes pass through unchanged). */
const IAM_ERROR_NAMES: Partial<Record<ErrorCode, { http: number; code: string }>> = {
  InvalidRequest: { http: 400, code: 'ValidationError' },
  Validation: { http: 400, code: 'ValidationError' },
  AccessDenied: { http: 403, code: 'AccessDenied' },
  InvalidSignature: { http: 403, code: 'SignatureDoesNotMatch' },
  RequestTimeTooSkewed: { http: 403, code: 'SignatureDoesNotMatch' },
  WrongSigningRegion: { http: 403, code: 'SignatureDoesNotMatch' },
  UnrecognizedClient: { http: 403, code: 'InvalidClientTokenId' },
  MissingAuthenticationToken: { http: 403, code: 'MissingAuthenticationToken' },
  UnknownOperation: { http: 400, code: 'InvalidAction' },
  LimitExceeded: { http: 409, code: 'LimitExceeded' },
  DeleteConflict: { http: 409, code: 'DeleteConflict' },
  Throttling: { http: 400, code: 'Throttling' },
  InternalFailure: { http: 500, code: 'ServiceFailure' },
};

/** IAM over the AWS query protocol (issue 6, item 3): form-encoded input, XML replies. */
export class IamAdapter implements AwsServiceAdapter {
  readonly signingNames = ['iam'] as const;
  private readonly actions: Record<string, IamAction>;

  constructor(roles: RolesService, policies: PoliciesService) {
    this.actions = iamActions(roles, policies);
  }

  async handle(req: AwsRequest, _body: Readable, reply: FastifyReply): Promise<void> {
    const input = QueryInput.parse(req.rawBody, req.rawQuery);
    const action = input.string('Action');
    if (action === undefined)
      throw new ServiceError('InvalidRequest', 'The request must contain the parameter Action.');
    const version = input.string('Version');
    if (version !== undefined && version !== IAM_VERSION) {
      throw new ServiceError('InvalidRequest', `Version ${version} is not supported; use ${IAM_VERSION}.`);
    }
    const handler = Object.hasOwn(this.actions, action) ? this.actions[action] : undefined;
    if (!handler)
      throw new ServiceError('UnknownOperation', `Could not find operation ${action} for version ${IAM_VERSION}.`);
    req.operation = action;
    const result = await handler(input);
    const requestId = String(reply.getHeader('x-amzn-RequestId') ?? '');
    void reply
      .code(200)
      .header('content-type', 'text/xml')
      .send(
        xmlDocument(`${action}Response`, IAM_XMLNS, {
          ...(result && { [`${action}Result`]: result }),
          ResponseMetadata: { RequestId: requestId },
        }),
      );
  }

  renderError(err: ServiceError, reply: FastifyReply, requestId: string): void {
    const named = IAM_ERROR_NAMES[err.code] ?? { http: errorMapping(err.code).http, code: errorMapping(err.code).aws };
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${IAM_XMLNS}">${toXml('Error', {
      Type: named.http >= 500 ? 'Receiver' : 'Sender',
      Code: named.code,
      Message: err.message,
    })}${toXml('RequestId', requestId)}</ErrorResponse>`;
    void reply.code(named.http).header('x-amzn-RequestId', requestId).header('content-type', 'text/xml').send(body);
  }
}
