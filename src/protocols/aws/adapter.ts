import type { FastifyReply } from 'fastify';
import type { Readable } from 'node:stream';
import { ERROR_CATALOGUE, errorMapping, ServiceError, type Plane } from '../../errors.js';
import { newUuid } from '../../ids.js';
import { parseJsonBody, type AwsRequest } from './request.js';
import { RouteTable } from './router.js';

/** One AWS service behind the HTTP listener (spec 1.1: chosen by the credential scope). */
export interface AwsServiceAdapter {
  /** Signing names that reach this adapter (e.g. iot and execute-api). */
  readonly signingNames: readonly string[];
  /** S3 reads its own body as a stream; every other adapter gets it buffered and hashed. */
  readonly streamsBody?: boolean;
  handle(req: AwsRequest, body: Readable, reply: FastifyReply): Promise<void>;
  renderError(err: ServiceError, reply: FastifyReply, requestId: string): void;
}

export type JsonHandler = (req: AwsRequest) => Promise<unknown>;

export function sendJsonError(reply: FastifyReply, err: ServiceError, requestId: string, plane: Plane): void {
  const mapping = errorMapping(err.code, plane);
  // The rest of a too-large body may still be arriving: do not keep the connection for more requests.
  if (err.code === 'PayloadTooLarge') void reply.header('connection', 'close');
  void reply
    .code(mapping.http)
    .header('x-amzn-RequestId', requestId)
    // spec 1.7: the SDKs take the code from this header first and drop anything after ':'.
    .header('x-amzn-ErrorType', `${mapping.aws}:`)
    .header('content-type', 'application/json')
    .send(JSON.stringify({ message: err.message, ...err.extras }));
}

/** restJson1 services (iot, iot-jobs-data, signer): a route table of JSON handlers. */
export class RestJsonAdapter implements AwsServiceAdapter {
  readonly routes = new RouteTable<JsonHandler>();

  constructor(
    readonly signingNames: readonly string[],
    readonly plane: Plane,
    private readonly serviceLabel: string,
  ) {}

  add(method: string, path: string, operation: string, handler: JsonHandler): this {
    this.routes.add(method, path, operation, handler);
    return this;
  }

  async handle(req: AwsRequest, _body: Readable, reply: FastifyReply): Promise<void> {
    // An empty path label (`GET /things/t/jobs/`, what a shell makes of `--job-id "$next"`) must
    // not fall through to the shorter route (GetPendingJobExecutions): it is a bad request.
    if (/\/\/|.\/$/.test(req.rawPath)) {
      throw new ServiceError('InvalidRequest', `A path label in ${req.method} ${req.rawPath} is empty.`);
    }
    const match = this.routes.match(req.method, req.rawPath);
    if (!match) {
      throw new ServiceError(
        'UnknownOperation',
        `No ${this.serviceLabel} operation matches ${req.method} ${req.rawPath}.`,
      );
    }
    req.params = match.params;
    req.operation = match.operation;
    req.body = parseJsonBody(req.rawBody);
    const result = await match.handler(req);
    void reply
      .code(200)
      .header('content-type', 'application/json')
      .send(JSON.stringify(result ?? {}));
  }

  renderError(err: ServiceError, reply: FastifyReply, requestId: string): void {
    sendJsonError(reply, err, requestId, this.plane);
  }
}

export const requestId = (): string => newUuid();
export const isKnownErrorCode = (code: string): boolean => code in ERROR_CATALOGUE;
