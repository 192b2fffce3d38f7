import { ServiceError } from '../../errors.js';
import type { Block, GetBlocksRequest, StreamDescription } from '../../streams/stream-delivery.js';
import { CborError, decodeCbor, encodeCbor, type CborValue } from './cbor.js';
import type { StreamFormat } from './streams-topics.js';

/**
 * Stream payloads use one-letter keys, the same in JSON and CBOR (AWS IoT developer guide,
 * "Using AWS IoT MQTT-based file delivery in devices"; FreeRTOS ota_cbor_private.h OTA_CBOR_*_KEY):
 * request  c clientToken, s streamVersion, f fileId, l blockSize, o blockOffset, n numberOfBlocks, b blockBitmap
 * data     c, f fileId, l size of this block, i blockId, p payload
 * describe c, s streamVersion, d description, r files [{f fileId, z size}]
 * rejected o code, m message, c
 * Bytes: a CBOR byte string; in JSON, p is Base64 (the AWS MQTT file streams library,
 * MQTTFileDownloader.c, Base64-decodes it) and b is hexadecimal, "0x" optional (developer guide,
 * "Build a bitmap for a GetStream request": blocks 0, 1, 4, 23 are "0x130080").
 */
export type RequestBody = Record<string, unknown>;

/** The guide: "The client token can't be longer than 64 bytes" (InvalidRequest). */
export const MAX_CLIENT_TOKEN_BYTES = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeRequest(format: StreamFormat, payload: Buffer): RequestBody {
  // Describe requests may carry nothing at all (the client token is optional).
  if (payload.length === 0) return {};
  let value: unknown;
  if (format === 'json') {
    try {
      value = JSON.parse(utf8.decode(payload));
    } catch {
      throw new ServiceError('InvalidJson', 'The stream request is not a valid JSON document.');
    }
  } else {
    try {
      value = decodeCbor(payload);
    } catch (err) {
      if (!(err instanceof CborError)) throw err;
      throw new ServiceError('InvalidCbor', `The stream request is not a valid CBOR document: ${err.message}.`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new ServiceError(format === 'json' ? 'InvalidJson' : 'InvalidCbor', 'The stream request must be a map.');
  }
  return value as RequestBody;
}

/** The client token to echo: only a valid one is ("When the client token ... isn't valid ... it's not returned"). */
export function clientTokenOf(body: RequestBody): string | undefined {
  const c = body.c;
  return typeof c === 'string' && Buffer.byteLength(c, 'utf8') <= MAX_CLIENT_TOKEN_BYTES ? c : undefined;
}

export function checkClientToken(body: RequestBody): void {
  if (body.c === undefined) return;
  if (typeof body.c !== 'string') throw new ServiceError('InvalidRequest', 'The client token "c" must be a string.');
  if (Buffer.byteLength(body.c, 'utf8') > MAX_CLIENT_TOKEN_BYTES) {
    throw new ServiceError('InvalidRequest', `The client token is longer than ${MAX_CLIENT_TOKEN_BYTES} bytes.`);
  }
}

function integer(body: RequestBody, key: string, name: string, required: boolean): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) {
    if (required) throw new ServiceError('InvalidRequest', `The request has no "${key}" (${name}).`);
    return undefined;
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw new ServiceError('InvalidRequest', `"${key}" (${name}) must be an integer.`);
  }
  return v;
}

function bitmapOf(format: StreamFormat, value: unknown): Uint8Array | undefined {
  if (value === undefined || value === null) return undefined;
  if (format === 'cbor') {
    if (value instanceof Uint8Array) return value;
    throw new ServiceError('InvalidRequest', '"b" (blockBitmap) must be a byte string.');
  }
  if (typeof value !== 'string') throw new ServiceError('InvalidRequest', '"b" (blockBitmap) must be a hex string.');
  const hex = value.startsWith('0x') || value.startsWith('0X') ? value.slice(2) : value;
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) {
    throw new ServiceError('InvalidRequest', '"b" (blockBitmap) must be whole bytes in hexadecimal, e.g. "0x130080".');
  }
  return Buffer.from(hex, 'hex');
}

export function getRequestOf(format: StreamFormat, body: RequestBody): GetBlocksRequest {
  const streamVersion = integer(body, 's', 'streamVersion', false);
  const blockOffset = integer(body, 'o', 'blockOffset', false);
  const numberOfBlocks = integer(body, 'n', 'numberOfBlocks', false);
  const bitmap = bitmapOf(format, body.b);
  return {
    fileId: integer(body, 'f', 'fileId', true)!,
    blockSize: integer(body, 'l', 'blockSize', true)!,
    ...(streamVersion !== undefined && { streamVersion }),
    ...(blockOffset !== undefined && { blockOffset }),
    ...(numberOfBlocks !== undefined && { numberOfBlocks }),
    ...(bitmap !== undefined && { bitmap }),
  };
}

function encode(format: StreamFormat, value: Record<string, CborValue>): Buffer {
  if (format === 'cbor') return encodeCbor(value);
  // Only top-level members hold bytes (p); Buffer's own toJSON would otherwise win.
  const json = Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v]),
  );
  return Buffer.from(JSON.stringify(json));
}

const withToken = (c: string | undefined): Record<string, CborValue> => (c !== undefined ? { c } : {});

export const dataPayload = (format: StreamFormat, c: string | undefined, block: Block): Buffer =>
  encode(format, { ...withToken(c), f: block.fileId, l: block.data.length, i: block.blockId, p: block.data });

export const descriptionPayload = (format: StreamFormat, c: string | undefined, d: StreamDescription): Buffer =>
  encode(format, {
    ...withToken(c),
    s: d.version,
    ...(d.description !== undefined && { d: d.description }),
    r: d.files.map((f) => ({ f: f.fileId, z: f.size })),
  });

export const rejectedPayload = (format: StreamFormat, c: string | undefined, code: string, message: string): Buffer =>
  encode(format, { o: code, m: message, ...withToken(c) });
