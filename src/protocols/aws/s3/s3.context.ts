import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { Readable } from 'node:stream';
import { ServiceError } from '../../../errors.js';
import { checksumHeader, type ChecksumAlgorithm } from '../../../objects/checksums.js';
import type { ObjectServices } from '../../../objects/objects.services.js';
import type { S3Caller } from '../../../objects/s3-access.js';
import { readBody } from '../dispatcher.js';
import type { AwsRequest } from '../request.js';
import { awsUriEncode } from '../sigv4.js';
import { parseXml, xmlDocument } from '../xml.js';
import { openPayload } from './s3.payload.js';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** One S3 request after routing. */
export interface S3Request {
  req: AwsRequest;
  raw: Readable;
  reply: FastifyReply;
  bucket?: string;
  key?: string;
  caller: S3Caller;
  /** The signing secret, for chunk signatures of aws-chunked bodies. */
  secret: string;
  services: ObjectServices;
  region: string;
  owner: { ID: string; DisplayName: string };
}

export const ownerOf = (account: string): { ID: string; DisplayName: string } => ({
  ID: createHash('sha256').update(`fleetjobs:${account}`).digest('hex'),
  DisplayName: 'fleetjobs',
});

export function sendXml(reply: FastifyReply, root: string, value: Record<string, unknown>, status = 200): void {
  void reply
    .code(status)
    .header('content-type', 'application/xml')
    .send(xmlDocument(root, S3_XMLNS, value));
}

export function sendEmpty(reply: FastifyReply, status: number): void {
  void reply.code(status).send();
}

/** `ChecksumCRC32` etc., the XML element names of the additional checksums. */
export const checksumElement = (a: ChecksumAlgorithm): string => `Checksum${a}`;

export function setChecksumHeader(
  reply: FastifyReply,
  checksum: { algorithm: string; value: string; type?: string } | undefined,
): void {
  if (!checksum) return;
  void reply.header(checksumHeader(checksum.algorithm as ChecksumAlgorithm), checksum.value);
  if (checksum.type) void reply.header('x-amz-checksum-type', checksum.type);
}

/** `encoding-type=url`: keys and prefixes go out percent-encoded (the CLI always asks for it). */
export const urlEncoder =
  (encodingType: string | undefined): ((s: string | undefined) => string | undefined) =>
  (s) =>
    s === undefined || encodingType !== 'url' ? s : awsUriEncode(s).replace(/%2F/g, '/');

export function checkEncodingType(value: string | undefined): void {
  if (value !== undefined && value !== 'url') {
    throw new ServiceError('InvalidArgument', 'Invalid Encoding Method specified in Request');
  }
}

/** A small XML request body, read whole and checked against its declared hashes. */
export async function readXmlBody(r: S3Request, root: string, optional = false): Promise<Record<string, unknown>> {
  const payload = openPayload(r.req, r.raw, r.secret);
  const body = await readBody(payload.body, 1024 * 1024);
  const { expect } = payload;
  if (expect.length !== undefined && body.length !== expect.length) {
    throw new ServiceError('IncompleteBody', 'The request body is shorter than its declared length.');
  }
  if (expect.sha256Hex && createHash('sha256').update(body).digest('hex') !== expect.sha256Hex.toLowerCase()) {
    throw new ServiceError(
      'XAmzContentSHA256Mismatch',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }
  if (expect.md5Base64 && createHash('md5').update(body).digest('base64') !== expect.md5Base64) {
    throw new ServiceError('BadDigest', 'The Content-MD5 you specified did not match what we received.');
  }
  if (optional && body.length === 0) return {};
  const parsed = parseXml(body.toString('utf8'));
  const content = parsed?.[root];
  if (content === undefined) {
    throw new ServiceError(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    );
  }
  return typeof content === 'object' && content !== null ? (content as Record<string, unknown>) : {};
}
