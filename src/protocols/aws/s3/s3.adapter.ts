import type { FastifyReply } from 'fastify';
import type { Readable } from 'node:stream';
import { ServiceError } from '../../../errors.js';
import type { ObjectServices } from '../../../objects/objects.services.js';
import type { AwsServiceAdapter } from '../adapter.js';
import type { CredentialStore } from '../credentials.js';
import type { AwsRequest } from '../request.js';
import { ownerOf, type S3Request } from './s3.context.js';
import { renderS3Error } from './s3.errors.js';
import { resolveOperation } from './s3.routes.js';

/** Splits a path-style request path into bucket and key (both percent-decoded). */
export function splitPath(rawPath: string): { bucket?: string; key?: string } {
  const path = rawPath.replace(/^\/+/, '');
  if (path === '') return {};
  const slash = path.indexOf('/');
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new ServiceError('InvalidArgument', 'The request path is not valid percent-encoding.');
    }
  };
  if (slash === -1) return { bucket: decode(path) };
  const key = path.slice(slash + 1);
  return key === ''
    ? { bucket: decode(path.slice(0, slash)) }
    : { bucket: decode(path.slice(0, slash)), key: decode(key) };
}

/**
 * The embedded S3-compatible store (issue 6, item 1): path-style REST/XML on the main listener.
 * The dispatcher has verified the request signature; the body is ours to stream and verify.
 */
export class S3Adapter implements AwsServiceAdapter {
  readonly signingNames = ['s3'] as const;
  readonly streamsBody = true;
  private readonly owner;

  constructor(
    private readonly deps: { services: ObjectServices; credentials: CredentialStore; region: string; account: string },
  ) {
    this.owner = ownerOf(deps.account);
  }

  async handle(req: AwsRequest, body: Readable, reply: FastifyReply): Promise<void> {
    const { bucket, key } = splitPath(req.rawPath);
    const operation = resolveOperation(req.method, bucket, key, req.query, req.headers);
    req.operation = operation.name;
    const caller = {
      principal: req.principal,
      ...(req.signature?.securityToken !== undefined && { securityToken: req.signature.securityToken }),
    };
    if (operation.action) await this.deps.services.access.authorize(caller, operation.action, bucket, key);
    const credential = await this.deps.credentials.lookup(req.principal.accessKeyId);
    const r: S3Request = {
      req,
      raw: body,
      reply,
      ...(bucket !== undefined && { bucket }),
      ...(key !== undefined && { key }),
      caller,
      secret: credential?.secretAccessKey ?? '',
      services: this.deps.services,
      region: this.deps.region,
      owner: this.owner,
    };
    void reply.header('x-amz-request-id', String(reply.getHeader('x-amzn-RequestId') ?? ''));
    await operation.handler(r);
  }

  renderError(err: ServiceError, reply: FastifyReply, requestId: string): void {
    renderS3Error(err, reply, requestId, reply.request.method);
  }
}
