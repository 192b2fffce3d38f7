import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Readable } from 'node:stream';
import type { Clock } from '../../clock.js';
import { ServiceError } from '../../errors.js';
import { requestId as newRequestId, sendJsonError, type AwsServiceAdapter } from './adapter.js';
import type { CredentialStore } from './credentials.js';
import { QueryParams, type AwsRequest } from './request.js';
import {
  checkRegion,
  parseSignature,
  verifySignature,
  type IncomingSignedRequest,
  type SignatureInfo,
} from './sigv4.js';

export const MAX_JSON_BODY_BYTES = 1024 * 1024;

export function splitUrl(url: string): { rawPath: string; rawQuery: string } {
  const q = url.indexOf('?');
  return q === -1 ? { rawPath: url, rawQuery: '' } : { rawPath: url.slice(0, q), rawQuery: url.slice(q + 1) };
}

/** True when the request carries a SigV4 signature in either form. */
export function isAwsSigned(request: FastifyRequest): boolean {
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('AWS4-HMAC-SHA256')) return true;
  return /[?&]X-Amz-(Signature|Credential)=/.test(request.raw.url ?? '');
}

export async function readBody(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += buf.length;
    if (size > limit) {
      stream.destroy();
      throw new ServiceError('InvalidRequest', `The request body is larger than ${limit} bytes.`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/**
 * Every AWS request passes here: the signature is verified, then the adapter named by the
 * credential scope's service handles it (spec 1.1, 1.4).
 */
export class AwsDispatcher {
  private readonly adapters = new Map<string, AwsServiceAdapter>();
  private readonly unavailable = new Map<string, string>();

  constructor(
    private readonly deps: {
      credentials: CredentialStore;
      clock: Clock;
      logger: Logger;
      /** The server's region: a credential scope naming another is refused (spec 1.1). */
      region: string;
    },
  ) {}

  register(adapter: AwsServiceAdapter): void {
    for (const name of adapter.signingNames) this.adapters.set(name, adapter);
  }

  /** Services we know of but do not serve (yet): a clear error instead of a bare 404. */
  declareUnavailable(signingName: string, why: string): void {
    this.unavailable.set(signingName, why);
  }

  async dispatch(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const id = newRequestId();
    void reply.header('x-amzn-RequestId', id);
    const { rawPath, rawQuery } = splitUrl(request.raw.url ?? '/');
    const incoming: IncomingSignedRequest = { method: request.method, rawPath, rawQuery, headers: request.headers };
    const stream = (request.body as Readable | undefined) ?? request.raw;
    let adapter: AwsServiceAdapter | undefined;
    try {
      const signature = parseSignature(incoming);
      if (!signature) throw new ServiceError('MissingAuthenticationToken', 'Missing Authentication Token');
      adapter = this.adapters.get(signature.service);
      const awsRequest = await this.authenticate(incoming, signature, adapter, stream);
      await adapter!.handle(awsRequest, stream, reply);
    } catch (err) {
      this.fail(err, reply, id, adapter, request);
    }
  }

  private async authenticate(
    incoming: IncomingSignedRequest,
    signature: SignatureInfo,
    adapter: AwsServiceAdapter | undefined,
    stream: Readable,
  ): Promise<AwsRequest> {
    if (!adapter) {
      const why = this.unavailable.get(signature.service);
      throw new ServiceError(
        'UnknownOperation',
        why ?? `The service '${signature.service}' is not available on this server.`,
      );
    }
    checkRegion(signature, this.deps.region);
    const credential = await this.deps.credentials.lookup(signature.accessKeyId);
    if (!credential) {
      throw new ServiceError('UnrecognizedClient', 'The security token included in the request is invalid.');
    }
    const rawBody = adapter.streamsBody ? undefined : await readBody(stream, MAX_JSON_BODY_BYTES);
    verifySignature(incoming, signature, credential.secretAccessKey, rawBody, this.deps.clock.now());
    return {
      ...incoming,
      params: {},
      query: new QueryParams(incoming.rawQuery),
      body: undefined,
      rawBody,
      principal: credential.principal,
      signature,
      operation: '',
    };
  }

  private fail(
    err: unknown,
    reply: FastifyReply,
    id: string,
    adapter: AwsServiceAdapter | undefined,
    request: FastifyRequest,
  ): void {
    if (reply.sent) {
      this.deps.logger.error({ err, url: request.url }, 'error after the reply was sent');
      return;
    }
    const serviceError =
      err instanceof ServiceError ? err : new ServiceError('InternalFailure', 'An internal error occurred.');
    if (!(err instanceof ServiceError)) {
      this.deps.logger.error({ err, method: request.method, url: request.url }, 'unhandled error in an AWS request');
    }
    if (adapter) adapter.renderError(serviceError, reply, id);
    else sendJsonError(reply, serviceError, id, 'control');
  }
}
