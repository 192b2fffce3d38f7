import type { FastifyReply } from 'fastify';
import type { Readable } from 'node:stream';
import { errorMapping, ServiceError } from '../../../errors.js';
import type { SigningCertificatesService } from '../../../signing/certificates.service.js';
import type { AwsServiceAdapter } from '../adapter.js';
import { parseJsonBody, type AwsRequest } from '../request.js';

const TARGET_PREFIX = 'CertificateManager.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Input = Record<string, any>;

/** awsJson blobs are base64; a PEM sent as is is taken as is. */
function blobText(value: unknown, member: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ServiceError('InvalidParameter', `${member} must be a blob.`);
  if (value.trimStart().startsWith('-----BEGIN')) return value;
  return Buffer.from(value, 'base64').toString('utf8');
}

function required(value: string | undefined, member: string): string {
  if (value === undefined || value === '') throw new ServiceError('InvalidParameter', `${member} is required.`);
  return value;
}

/**
 * The part of AWS Certificate Manager code signing needs (awsJson 1.1, target CertificateManager):
 * ImportCertificate is how a signing certificate and its key come in (Signer profiles name them by
 * signingMaterial.certificateArn); GetCertificate gives the certificate back for devices. Keys
 * are never returned.
 */
export class AcmAdapter implements AwsServiceAdapter {
  readonly signingNames = ['acm'] as const;

  constructor(private readonly certificates: SigningCertificatesService) {}

  async handle(req: AwsRequest, _body: Readable, reply: FastifyReply): Promise<void> {
    const target = req.headers['x-amz-target'];
    const operation =
      typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    req.operation = operation;
    const input: Input = parseJsonBody(req.rawBody) ?? {};
    const result = await this.call(operation, input);
    void reply
      .code(200)
      .header('content-type', CONTENT_TYPE)
      .send(JSON.stringify(result ?? {}));
  }

  private async call(operation: string, input: Input): Promise<unknown> {
    const c = this.certificates;
    switch (operation) {
      case 'ImportCertificate':
        return c.importCertificate({
          certificate: required(blobText(input.Certificate, 'Certificate'), 'Certificate'),
          privateKey: required(blobText(input.PrivateKey, 'PrivateKey'), 'PrivateKey'),
          certificateChain: blobText(input.CertificateChain, 'CertificateChain'),
          certificateArn: input.CertificateArn as string | undefined,
        });
      case 'GetCertificate':
        return c.getCertificate(input.CertificateArn);
      case 'DescribeCertificate':
        return c.describeCertificate(input.CertificateArn);
      case 'ListCertificates':
        return c.listCertificates({ NextToken: input.NextToken as string, MaxItems: input.MaxItems as number });
      case 'DeleteCertificate':
        await c.deleteCertificate(input.CertificateArn);
        return {};
      default:
        throw new ServiceError(
          'UnknownOperation',
          `AWS Certificate Manager operation '${operation}' is not supported here.`,
        );
    }
  }

  renderError(err: ServiceError, reply: FastifyReply, requestId: string): void {
    const mapping = errorMapping(err.code, 'control');
    void reply
      .code(mapping.http)
      .header('x-amzn-RequestId', requestId)
      .header('x-amzn-ErrorType', mapping.aws)
      .header('content-type', CONTENT_TYPE)
      .send(JSON.stringify({ __type: mapping.aws, message: err.message }));
  }
}
