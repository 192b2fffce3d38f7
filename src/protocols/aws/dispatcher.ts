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

/** How much of a too-large body is read and dropped so the client gets its 413 on a clean connection. */
const DRAIN_BYTES = 16 * 1024 * 1024;

/**
 * Reads a whole body of at most `limit` bytes. A larger one is refused with PayloadTooLarge (413)
 * without keeping it: the rest is drained (up to DRAIN_BYTES more) so the client, still sending,
 * reads the reply instead of a TCP reset (SDKs then retry); beyond that, or when Content-Length
 * already says so, it is refused at once and the connection closed after the reply.
 */
export function readBody(stream: Readable, limit: number): Promise<Buffer> {
  const tooLarge = (): ServiceError =>
    new ServiceError('PayloadTooLarge', `The request body is larger than ${limit} bytes.`);
  const declared = Number((stream as Readable & { headers?: Record<string, unknown> }).headers?.['content-length']);
  if (Number.isFinite(declared) && declared > limit + DRAIN_BYTES) return Promise.reject(tooLarge());
  if (stream.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const onData = (chunk: Buffer | string): void => {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      size += buf.length;
      if (size <= limit) {
        chunks.push(buf);
        return;
      }
      chunks.length = 0;
      if (size > limit + DRAIN_BYTES) {
        done();
        stream.pause();
        reject(tooLarge());
      }
    };
    const onEnd = (): void => {
      done();
      if (size > limit) reject(tooLarge());
      else resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error): void => {
      done();
      reject(err);
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
  });
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

  /**
   * The protocol of a request whose signature did not parse: the service named in whatever
   * credential it carries, and a query-signed (presigned) one without a readable service is S3's,
   * the only service that hands out presigned URLs. Its error then has S3's XML shape.
   */
  private adapterForUnparsed(request: FastifyRequest): AwsServiceAdapter | undefined {
    const url = request.raw.url ?? '';
    const auth = typeof request.headers.authorization === 'string' ? request.headers.authorization : '';
    let credential = /Credential=([^,\s]*)/.exec(auth)?.[1];
    if (credential === undefined) {
      const q = /[?&]X-Amz-Credential=([^&]*)/.exec(url)?.[1];
      try {
        credential = q === undefined ? undefined : decodeURIComponent(q);
      } catch {
        credential = q;
      }
    }
    const service = credential?.split('/')[3];
    const named = service === undefined ? undefined : this.adapters.get(service);
    if (named) return named;
    return /[?&]X-Amz-(Signature|Credential|Algorithm)=/.test(url) ? this.adapters.get('s3') : undefined;
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
    const renderer = adapter ?? this.adapterForUnparsed(request);
    if (renderer) renderer.renderError(serviceError, reply, id);
    else sendJsonError(reply, serviceError, id, 'control');
  }
}
