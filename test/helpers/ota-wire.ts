import { createVerify, X509Certificate } from 'node:crypto';
import { decode as cborDecode, encode as cborEncode } from 'cborg';

/**
 * The wire formats of the FreeRTOS OTA agent (aws/ota-for-aws-iot-embedded-sdk), replayed byte for byte
 * where the C library fixes them (spec 5.8, 6.5). Pure functions: the device in ota-device.ts puts them on
 * MQTT, the unit tests in test/unit/ota-device-*.test.ts pin them. Sources (read, not copied):
 *  - source/ota_mqtt.c: topics, the `$next/get` body, the status message templates;
 *  - source/ota_cbor.c + source/include/ota_cbor_private.h: the GetStream request/response keys;
 *  - source/ota.c + source/include/ota_private.h: the job document model, the block bitmap, block checks;
 *  - aws/aws-iot-core-mqtt-file-streams-embedded-c (MQTTFileDownloader.c): the exchange in JSON (`get/json`,
 *    offset and count instead of a bitmap, base64 `p`).
 */

export type StreamFormat = 'json' | 'cbor';

/** otaconfigLOG2_FILE_BLOCK_SIZE defaults to 12: 4 KB blocks. */
export const DEFAULT_BLOCK_SIZE = 4096;
/** otaconfigMAX_BLOCK_BITMAP_SIZE: 128 bytes, so at most 1,024 blocks per file. */
export const MAX_BITMAP_BYTES = 128;
/** The client token the agent puts in every GetStream request (OTA_CLIENT_TOKEN). */
export const STREAM_CLIENT_TOKEN = 'rdy';

export const jobsTopics = (thing: string) => {
  const base = `$aws/things/${thing}/jobs`;
  return {
    notifyNext: `${base}/notify-next`,
    nextGet: `${base}/$next/get`,
    nextGetAccepted: `${base}/$next/get/accepted`,
    nextGetRejected: `${base}/$next/get/rejected`,
    update: (jobId: string) => `${base}/${jobId}/update`,
  };
};

/** `$aws/things/<thing>/streams/<stream>/{get,data,rejected}/{json,cbor}` (MQTT-based file delivery). */
export const streamTopics = (thing: string, stream: string, format: StreamFormat) => {
  const base = `$aws/things/${thing}/streams/${stream}`;
  return {
    get: `${base}/get/${format}`,
    data: `${base}/data/${format}`,
    rejected: `${base}/rejected/${format}`,
    describe: `${base}/describe/${format}`,
    description: `${base}/description/${format}`,
  };
};

/** requestJob_Mqtt: `{"clientToken":"<counter>:<thing>"}`, the thing name cut to 53 characters. */
export const nextGetBody = (counter: number, thing: string): string =>
  `{"clientToken":"${counter}:${thing.slice(0, 53)}"}`;

// ---------------------------------------------------------------------------------------------------------
// Application versions (ota_appversion32.h): major in the top byte, minor next, build in the low 16 bits.

export interface AppVersion {
  major: number;
  minor: number;
  build: number;
}

export const packVersion = (v: AppVersion): number =>
  (((v.major & 0xff) << 24) | ((v.minor & 0xff) << 16) | (v.build & 0xffff)) >>> 0;

export const unpackVersion = (n: number): AppVersion => ({
  major: (n >>> 24) & 0xff,
  minor: (n >>> 16) & 0xff,
  build: n & 0xffff,
});

/** stringBuilderUInt32Hex: always 8 lower-case digits. */
export const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

// ---------------------------------------------------------------------------------------------------------
// Job status messages, exactly as ota_mqtt.c assembles them (no clientToken, no expectedVersion).

export const JOB_REASONS = ['receive', 'ready', 'active', 'accepted', 'rejected', 'aborted'] as const;
export type SelfTestReason = 'ready' | 'active';

/** 0xe3: OtaPalSignatureCheckFailed (ota_platform_interface.h). */
export const PAL_SIGNATURE_CHECK_FAILED = 0xe3;

const head = (status: string): string => `{"status":"${status}","statusDetails":{`;
const dotted = (v: AppVersion): string => `${v.major}.${v.minor}.${v.build}`;

export const statusMessages = {
  /** buildStatusMessageReceiving, sent at QoS 0 after the first block and every `frequency` blocks. */
  receiving: (received: number, total: number): string => `${head('IN_PROGRESS')}"receive":"${received}/${total}"}}`,
  /** prvBuildStatusMessageSelfTest: `updatedBy` is the running application's version. */
  selfTest: (reason: SelfTestReason, running: AppVersion): string =>
    `${head('IN_PROGRESS')}"self_test":"${reason}","updatedBy":"0x${hex8(packVersion(running))}"}}`,
  /** prvBuildStatusMessageFinish, JobStatusSucceeded (the two spaces are the library's). */
  succeeded: (running: AppVersion, previous: AppVersion): string =>
    `${head('SUCCEEDED')}"reason":"accepted  v${dotted(running)}","updatedBy":"  v${dotted(previous)}"}}`,
  /** JobStatusFailedWithVal: a PAL error (main code: sub code), e.g. a failed signature check. */
  failedWithValue: (main: number, sub: number): string =>
    `${head('FAILED')}"reason":"0x${hex8(main)}: 0x${hex8(sub)}"}}`,
  /** JobStatusFailed after self test: `rejected` or `aborted`. */
  failed: (reason: 'rejected' | 'aborted', sub: number): string =>
    `${head('FAILED')}"reason":"${reason}: 0x${hex8(sub)}"}}`,
};

// ---------------------------------------------------------------------------------------------------------
// The job document (otaJobDocModelParamStructure in ota.c).

export interface OtaFileParams {
  filepath?: string;
  filesize: number;
  fileid: number;
  certfile?: string;
  updateDataUrl?: string;
  authScheme?: string;
  /** The decoded signature under the platform's key (`sig-sha256-ecdsa`). */
  signature?: Buffer;
  attr?: number;
  fileType?: number;
}

export interface OtaJob {
  jobId: string;
  /** execution.statusDetails.self_test: present once the image reported `ready` and rebooted. */
  selfTest?: string;
  /** execution.statusDetails.updatedBy, parsed like strtoul(…, 0). */
  updatedBy?: number;
  streamName?: string;
  protocols: string[];
  file: OtaFileParams;
}

export class OtaJobParseError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** strtoul(s, &end, 0) with the whole value consumed: decimal, 0x hex or 0 octal. */
export function parseUInt32(value: unknown, key: string): number {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : undefined;
  const n =
    text === undefined
      ? NaN
      : /^0[xX][0-9a-fA-F]+$/.test(text)
        ? parseInt(text.slice(2), 16)
        : /^0[0-7]*$/.test(text)
          ? parseInt(text, 8)
          : /^[1-9][0-9]*$/.test(text)
            ? parseInt(text, 10)
            : NaN;
  if (!Number.isSafeInteger(n) || n > 0xffffffff) throw new OtaJobParseError(`${key}: not an unsigned 32-bit number`);
  return n;
}

const optionalString = (o: Record<string, unknown>, key: string): string | undefined => {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new OtaJobParseError(`${key}: not a string`);
  return v;
};

/**
 * A `$next/get/accepted` or `notify-next` payload as the agent reads it. `undefined` when there is no job
 * (an accepted reply without `execution`); OtaJobParseError when a required member is missing or malformed.
 */
export function parseJobMessage(payload: unknown, signatureKey = 'sig-sha256-ecdsa'): OtaJob | undefined {
  if (!isObject(payload)) throw new OtaJobParseError('not a JSON object');
  const execution = payload.execution;
  if (execution === undefined) return undefined;
  if (!isObject(execution)) throw new OtaJobParseError('execution: not an object');
  const jobId = execution.jobId;
  if (typeof jobId !== 'string' || jobId.length === 0) throw new OtaJobParseError('execution.jobId: missing');
  // OTA_JOB_ID_MAX_SIZE is 72 + 1.
  if (jobId.length > 72) throw new OtaJobParseError('execution.jobId: longer than 72 characters');
  const details = isObject(execution.statusDetails) ? execution.statusDetails : {};
  const doc = execution.jobDocument;
  if (!isObject(doc)) throw new OtaJobParseError('execution.jobDocument: missing');
  const ota = doc.afr_ota;
  if (!isObject(ota)) throw new OtaJobParseError('execution.jobDocument.afr_ota: missing');
  const protocols = ota.protocols;
  if (!Array.isArray(protocols) || !protocols.every((p) => typeof p === 'string'))
    throw new OtaJobParseError('afr_ota.protocols: missing');
  const files = ota.files;
  if (!Array.isArray(files) || !isObject(files[0])) throw new OtaJobParseError('afr_ota.files: missing');
  // OTA_MAX_FILES is 1: the agent reads the first file only.
  const f = files[0];
  if (f.filesize === undefined) throw new OtaJobParseError('filesize: missing');
  if (f.fileid === undefined) throw new OtaJobParseError('fileid: missing');
  const sig = f[signatureKey];
  let signature: Buffer | undefined;
  if (sig !== undefined) {
    if (typeof sig !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(sig))
      throw new OtaJobParseError(`${signatureKey}: not base64`);
    signature = Buffer.from(sig, 'base64');
  }
  return {
    jobId,
    ...(typeof details.self_test === 'string' && { selfTest: details.self_test }),
    ...(details.updatedBy !== undefined && { updatedBy: parseUInt32(details.updatedBy, 'updatedBy') }),
    ...(optionalString(ota, 'streamname') !== undefined && { streamName: optionalString(ota, 'streamname') }),
    protocols: protocols as string[],
    file: {
      filepath: optionalString(f, 'filepath'),
      filesize: parseUInt32(f.filesize, 'filesize'),
      fileid: parseUInt32(f.fileid, 'fileid'),
      certfile: optionalString(f, 'certfile'),
      updateDataUrl: optionalString(f, 'update_data_url'),
      authScheme: optionalString(f, 'auth_scheme'),
      signature,
      ...(f.attr !== undefined && { attr: parseUInt32(f.attr, 'attr') }),
      ...(f.fileType !== undefined && { fileType: parseUInt32(f.fileType, 'fileType') }),
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// The receive bitmap (ota.c): one bit per block, LSB first, 1 = still wanted ("erased", like flash).

export class BlockBitmap {
  readonly bytes: Uint8Array;
  remaining: number;

  constructor(
    readonly fileSize: number,
    readonly blockSize = DEFAULT_BLOCK_SIZE,
  ) {
    if (fileSize <= 0) throw new OtaJobParseError('filesize is 0');
    const blocks = this.blocks;
    if (blocks > MAX_BITMAP_BYTES * 8)
      throw new OtaJobParseError(`${blocks} blocks: more than the ${MAX_BITMAP_BYTES * 8} a bitmap can track`);
    const len = Math.ceil(blocks / 8);
    this.bytes = new Uint8Array(len).fill(0xff);
    // Bits past the last block are cleared from the top of the last byte down, as the agent does.
    for (let i = 0, bit = 0x80; i < len * 8 - blocks; i++, bit >>= 1) this.bytes[len - 1]! &= ~bit & 0xff;
    this.remaining = blocks;
  }

  get blocks(): number {
    return Math.ceil(this.fileSize / this.blockSize);
  }

  wanted(index: number): boolean {
    return index >= 0 && index < this.blocks && (this.bytes[index >> 3]! & (1 << (index & 7))) !== 0;
  }

  /** The first block still wanted (-1 when none). */
  firstWanted(): number {
    for (let i = 0; i < this.blocks; i++) if (this.wanted(i)) return i;
    return -1;
  }

  /** Marks a block received; false when it was received before (a duplicate). */
  take(index: number): boolean {
    if (!this.wanted(index)) return false;
    this.bytes[index >> 3]! &= ~(1 << (index & 7)) & 0xff;
    this.remaining--;
    return true;
  }

  /** validateDataBlock: every block but the last is exactly one block size; the last is the rest. */
  validBlock(index: number, size: number): boolean {
    const last = this.blocks - 1;
    return (
      (index >= 0 && index < last && size === this.blockSize) ||
      (index === last && size === this.fileSize - last * this.blockSize)
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// GetStream request / data block / rejection (MQTT-based file delivery; OTA_CBOR_* keys).

// cborg (pure JS, a library we did not write) checks our own codec in src/protocols/mqtt/cbor.ts. Its default
// sorts map keys canonically; the OTA agent writes them in a fixed order, so keep insertion order.
const cbor = {
  encode: (v: unknown): Buffer => Buffer.from(cborEncode(v, { mapSorter: () => 0 })),
  decode: (raw: Uint8Array): unknown => cborDecode(raw),
};

export interface GetStreamRequest {
  clientToken: string;
  fileId: number;
  blockSize: number;
  blockOffset: number;
  bitmap: Uint8Array;
  numberOfBlocks: number;
}

/**
 * CBOR, OTA_CBOR_Encode_GetStreamRequestMessage (the OTA agent): a 6-entry map c, f, l, o, b, n in that
 * order, `b` the byte string of the blocks still missing, `o` 0.
 */
export function encodeGetStreamRequest(r: GetStreamRequest): Buffer {
  const b = Buffer.from(r.bitmap);
  return cbor.encode({ c: r.clientToken, f: r.fileId, l: r.blockSize, o: r.blockOffset, b, n: r.numberOfBlocks });
}

/**
 * JSON, mqttDownloader_createGetDataBlockRequest (aws-iot-core-mqtt-file-streams-embedded-c, the library
 * newer FreeRTOS OTA demos use): no bitmap and no client token, `n` consecutive blocks from block `o`, the
 * stream version fixed at 1, formatted by its snprintf template.
 */
export const encodeJsonGetStreamRequest = (r: Omit<GetStreamRequest, 'bitmap' | 'clientToken'>): Buffer =>
  Buffer.from(`{"s": 1,"f": ${r.fileId},"l": ${r.blockSize},"o": ${r.blockOffset},"n": ${r.numberOfBlocks}}`);

export interface DataBlock {
  fileId: number;
  blockId: number;
  blockSize: number;
  payload: Buffer;
}

export class StreamDecodeError extends Error {}

export function decodeStreamMessage(format: StreamFormat, raw: Buffer): Record<string, unknown> {
  let v: unknown;
  try {
    v = format === 'cbor' ? cbor.decode(raw) : JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new StreamDecodeError(`undecodable ${format}: ${(err as Error).message}`);
  }
  if (!isObject(v)) throw new StreamDecodeError(`${format} message is not a map`);
  return v;
}

const int = (m: Record<string, unknown>, key: string): number => {
  const v = m[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new StreamDecodeError(`"${key}" is not an integer`);
  return v;
};

/**
 * OTA_CBOR_Decode_GetStreamResponseMessage: integers f, i, l and the payload p, a byte string in CBOR and a
 * base64 string in JSON (handleJsonMessage of the file streams library). Other keys are ignored.
 */
export function decodeDataBlock(format: StreamFormat, raw: Buffer): DataBlock {
  const m = decodeStreamMessage(format, raw);
  const fileId = int(m, 'f');
  const blockId = int(m, 'i');
  const blockSize = int(m, 'l');
  const p = m.p;
  let payload: Buffer;
  if (format === 'cbor') {
    if (!(p instanceof Uint8Array)) throw new StreamDecodeError('"p" is not a byte string');
    payload = Buffer.from(p.buffer, p.byteOffset, p.byteLength);
  } else {
    if (typeof p !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(p)) throw new StreamDecodeError('"p" is not base64');
    payload = Buffer.from(p, 'base64');
  }
  return { fileId, blockId, blockSize, payload };
}

/** A `rejected/<format>` message: error code `o`, message `m`, client token `c`. */
export function decodeRejection(
  format: StreamFormat,
  raw: Buffer,
): { code: string; message?: string; clientToken?: string } {
  const m = decodeStreamMessage(format, raw);
  return {
    code: typeof m.o === 'string' ? m.o : 'unknown',
    ...(typeof m.m === 'string' && { message: m.m }),
    ...(typeof m.c === 'string' && { clientToken: m.c }),
  };
}

// ---------------------------------------------------------------------------------------------------------

/**
 * What the POSIX PAL's otaPal_CheckFileSignature does: SHA-256 over the received file, the ECDSA signature
 * (ASN.1 DER, base64 in the document) checked with the public key of the code-signing certificate the
 * device holds under `certfile`.
 */
export function verifyImage(image: Buffer, signature: Buffer, certificatePem: string): boolean {
  try {
    const key = new X509Certificate(certificatePem).publicKey;
    if (key.asymmetricKeyType !== 'ec') return false;
    return createVerify('sha256').update(image).verify(key, signature);
  } catch {
    return false;
  }
}
