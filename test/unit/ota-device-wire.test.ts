import { createSign, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateCodeSigningMaterial } from '../../src/signing/generated-material.js';
import {
  BlockBitmap,
  decodeDataBlock,
  decodeRejection,
  encodeGetStreamRequest,
  encodeJsonGetStreamRequest,
  hex8,
  nextGetBody,
  OtaJobParseError,
  packVersion,
  parseJobMessage,
  parseUInt32,
  statusMessages,
  StreamDecodeError,
  streamTopics,
  unpackVersion,
  verifyImage,
} from '../helpers/ota-wire.js';

/**
 * The pure parts of the OTA test device (test/helpers/ota-wire.ts). Expected bytes are worked out from the
 * FreeRTOS OTA library's templates and tinycbor's encoding rules (spec 5.8, 6.5), not from our server.
 */

const v = (major: number, minor: number, build: number) => ({ major, minor, build });

describe('OTA agent messages', () => {
  it('asks for the next job with a "<counter>:<thing>" client token', () => {
    expect(nextGetBody(0, 'testclient')).toBe('{"clientToken":"0:testclient"}');
    expect(nextGetBody(12, 'x'.repeat(60))).toBe(`{"clientToken":"12:${'x'.repeat(53)}"}`);
  });

  it('packs application versions like AppVersion32_t and prints 8 hex digits', () => {
    expect(packVersion(v(0, 9, 2))).toBe(0x00090002);
    expect(packVersion(v(1, 0, 0))).toBe(0x01000000);
    expect(packVersion(v(255, 255, 65535))).toBe(0xffffffff);
    expect(unpackVersion(0x01020003)).toEqual(v(1, 2, 3));
    expect(hex8(0xe3)).toBe('000000e3');
  });

  it('builds the status messages of ota_mqtt.c byte for byte', () => {
    expect(statusMessages.receiving(1, 20)).toBe('{"status":"IN_PROGRESS","statusDetails":{"receive":"1/20"}}');
    expect(statusMessages.selfTest('ready', v(0, 9, 2))).toBe(
      '{"status":"IN_PROGRESS","statusDetails":{"self_test":"ready","updatedBy":"0x00090002"}}',
    );
    expect(statusMessages.selfTest('active', v(1, 0, 0))).toBe(
      '{"status":"IN_PROGRESS","statusDetails":{"self_test":"active","updatedBy":"0x01000000"}}',
    );
    expect(statusMessages.succeeded(v(1, 0, 0), v(0, 9, 2))).toBe(
      '{"status":"SUCCEEDED","statusDetails":{"reason":"accepted  v1.0.0","updatedBy":"  v0.9.2"}}',
    );
    expect(statusMessages.failedWithValue(0xe3, 0)).toBe(
      '{"status":"FAILED","statusDetails":{"reason":"0x000000e3: 0x00000000"}}',
    );
    expect(statusMessages.failed('rejected', 16)).toBe(
      '{"status":"FAILED","statusDetails":{"reason":"rejected: 0x00000010"}}',
    );
    // Every message is valid JSON with string statusDetails values (spec 5.3).
    for (const m of [statusMessages.succeeded(v(1, 0, 0), v(0, 9, 2)), statusMessages.receiving(3, 4)])
      expect(
        Object.values((JSON.parse(m) as { statusDetails: object }).statusDetails).every((x) => typeof x === 'string'),
      ).toBe(true);
  });

  it('names the stream topics per format', () => {
    expect(streamTopics('dev1', 'AFR_OTA-s1', 'cbor')).toMatchObject({
      get: '$aws/things/dev1/streams/AFR_OTA-s1/get/cbor',
      data: '$aws/things/dev1/streams/AFR_OTA-s1/data/cbor',
      rejected: '$aws/things/dev1/streams/AFR_OTA-s1/rejected/cbor',
    });
    expect(streamTopics('dev1', 's', 'json').get).toBe('$aws/things/dev1/streams/s/get/json');
  });
});

describe('job document (otaJobDocModelParamStructure)', () => {
  const doc = (file: Record<string, unknown> = {}, details?: Record<string, unknown>) => ({
    clientToken: '0:dev1',
    timestamp: 1764700000,
    execution: {
      jobId: 'AFR_OTA-rollout1',
      status: 'QUEUED',
      ...(details && { statusDetails: details }),
      queuedAt: 1764700000,
      versionNumber: 1,
      executionNumber: 1,
      jobDocument: {
        afr_ota: {
          protocols: ['MQTT'],
          streamname: 'AFR_OTA-4f1d',
          files: [
            {
              filepath: '/ota/app.bin',
              filesize: 20000,
              fileid: 0,
              certfile: 'codesign.crt',
              'sig-sha256-ecdsa': Buffer.from('sig').toString('base64'),
              ...file,
            },
          ],
        },
      },
    },
  });

  it('reads the members the agent stores', () => {
    expect(parseJobMessage(doc({ attr: 3, fileType: 0 }))).toEqual({
      jobId: 'AFR_OTA-rollout1',
      streamName: 'AFR_OTA-4f1d',
      protocols: ['MQTT'],
      file: {
        filepath: '/ota/app.bin',
        filesize: 20000,
        fileid: 0,
        certfile: 'codesign.crt',
        updateDataUrl: undefined,
        authScheme: undefined,
        signature: Buffer.from('sig'),
        attr: 3,
        fileType: 0,
      },
    });
  });

  it('sees a self test in statusDetails and reads updatedBy like strtoul(…, 0)', () => {
    const job = parseJobMessage(doc({}, { self_test: 'ready', updatedBy: '0x00090002' }));
    expect(job).toMatchObject({ selfTest: 'ready', updatedBy: 0x90002 });
    expect(parseUInt32('42', 'k')).toBe(42);
    expect(parseUInt32(42, 'k')).toBe(42);
    expect(parseUInt32('0x1000000', 'k')).toBe(0x1000000);
    expect(() => parseUInt32('12abc', 'k')).toThrow(OtaJobParseError);
    expect(() => parseUInt32('0x100000000', 'k')).toThrow(OtaJobParseError);
  });

  it('takes the HTTP members and "no job" replies', () => {
    const job = parseJobMessage(
      doc({ update_data_url: 'https://h/b/k?X-Amz-Signature=1', auth_scheme: 'aws.s3.presigned' }),
    );
    expect(job?.file).toMatchObject({
      updateDataUrl: 'https://h/b/k?X-Amz-Signature=1',
      authScheme: 'aws.s3.presigned',
    });
    expect(parseJobMessage({ clientToken: '0:dev1', timestamp: 1 })).toBeUndefined();
  });

  it('refuses documents without the required members', () => {
    const broken = (mutate: (d: ReturnType<typeof doc>) => void) => {
      const d = doc();
      mutate(d);
      return () => parseJobMessage(d);
    };
    expect(broken((d) => delete (d.execution as Partial<typeof d.execution>).jobDocument)).toThrow(/jobDocument/);
    expect(broken((d) => delete (d.execution.jobDocument as { afr_ota?: unknown }).afr_ota)).toThrow(/afr_ota/);
    expect(broken((d) => delete (d.execution.jobDocument.afr_ota as { protocols?: unknown }).protocols)).toThrow(
      /protocols/,
    );
    expect(
      broken((d) => delete (d.execution.jobDocument.afr_ota.files[0] as Record<string, unknown>).filesize),
    ).toThrow(/filesize/);
    expect(broken((d) => delete (d.execution.jobDocument.afr_ota.files[0] as Record<string, unknown>).fileid)).toThrow(
      /fileid/,
    );
    expect(broken((d) => (d.execution.jobId = 'j'.repeat(73)))).toThrow(/72/);
    expect(broken((d) => (d.execution.jobDocument.afr_ota.files[0]!['sig-sha256-ecdsa'] = 'not base64!'))).toThrow(
      /base64/,
    );
    expect(() => parseJobMessage('x')).toThrow(OtaJobParseError);
  });
});

describe('block bitmap', () => {
  it('starts with one set bit per block, the bits past the end cleared', () => {
    expect([...new BlockBitmap(3 * 4096).bytes]).toEqual([0x07]);
    expect([...new BlockBitmap(8 * 4096).bytes]).toEqual([0xff]);
    expect([...new BlockBitmap(10 * 4096 - 1).bytes]).toEqual([0xff, 0x03]);
    expect(new BlockBitmap(1).blocks).toBe(1);
  });

  it('takes each block once and checks block sizes', () => {
    const b = new BlockBitmap(2 * 1024 + 100, 1024);
    expect(b.remaining).toBe(3);
    expect(b.take(1)).toBe(true);
    expect(b.take(1)).toBe(false);
    expect([...b.bytes]).toEqual([0x05]);
    expect(b.remaining).toBe(2);
    expect(b.validBlock(0, 1024)).toBe(true);
    expect(b.validBlock(0, 100)).toBe(false);
    expect(b.validBlock(2, 100)).toBe(true);
    expect(b.validBlock(2, 1024)).toBe(false);
    expect(b.validBlock(3, 100)).toBe(false);
    expect(b.take(7)).toBe(false);
    expect(b.firstWanted()).toBe(0);
    b.take(0);
    b.take(2);
    expect(b.firstWanted()).toBe(-1);
  });

  it('refuses files the bitmap cannot track, and empty files', () => {
    expect(() => new BlockBitmap(1024 * 4096)).not.toThrow();
    expect(() => new BlockBitmap(1024 * 4096 + 1)).toThrow(/1024/);
    expect(() => new BlockBitmap(0)).toThrow(OtaJobParseError);
  });
});

describe('GetStream messages', () => {
  const request = {
    clientToken: 'rdy',
    fileId: 0,
    blockSize: 4096,
    blockOffset: 0,
    bitmap: Uint8Array.of(0x07),
    numberOfBlocks: 1,
  };

  it('encodes the CBOR request as tinycbor does: a 6-entry map c f l o b n', () => {
    expect(encodeGetStreamRequest(request).toString('hex')).toBe(
      'a6' + '6163' + '63726479' + '6166' + '00' + '616c' + '191000' + '616f' + '00' + '6162' + '4107' + '616e' + '01',
    );
  });

  it('encodes the JSON request as the file streams library’s snprintf template does: offset and count', () => {
    expect(
      encodeJsonGetStreamRequest({ fileId: 0, blockSize: 1024, blockOffset: 16, numberOfBlocks: 8 }).toString(),
    ).toBe('{"s": 1,"f": 0,"l": 1024,"o": 16,"n": 8}');
  });

  it('decodes data blocks in CBOR (byte string p) and JSON (base64 p)', () => {
    // {"f":0,"i":2,"l":3,"p":h'414243'} as tinycbor writes it (the service may add "c").
    const cborBlock = Buffer.from('a4' + '6166' + '00' + '6169' + '02' + '616c' + '03' + '6170' + '43414243', 'hex');
    expect(decodeDataBlock('cbor', cborBlock)).toEqual({
      fileId: 0,
      blockId: 2,
      blockSize: 3,
      payload: Buffer.from('ABC'),
    });
    const json = Buffer.from(JSON.stringify({ c: 'rdy', f: 1, i: 0, l: 3, p: 'QUJD' }));
    expect(decodeDataBlock('json', json)).toEqual({ fileId: 1, blockId: 0, blockSize: 3, payload: Buffer.from('ABC') });
  });

  it('refuses malformed data blocks', () => {
    expect(() => decodeDataBlock('json', Buffer.from('{"f":0,"i":"2","l":3,"p":"QUJD"}'))).toThrow(/"i"/);
    expect(() => decodeDataBlock('json', Buffer.from('{"f":0,"i":2,"l":3,"p":"**"}'))).toThrow(/base64/);
    // p as a text string in CBOR is not a byte string.
    expect(() => decodeDataBlock('cbor', Buffer.from('a4616600616902616c0361706341424', 'hex'))).toThrow(
      StreamDecodeError,
    );
    expect(() => decodeDataBlock('cbor', Buffer.from('a4616600616902616c03617063414243', 'hex'))).toThrow(
      /byte string/,
    );
    expect(() => decodeDataBlock('json', Buffer.from('[1]'))).toThrow(/not a map/);
  });

  it('reads rejections', () => {
    expect(decodeRejection('json', Buffer.from('{"o":"ResourceNotFound","m":"No stream","c":"rdy"}'))).toEqual({
      code: 'ResourceNotFound',
      message: 'No stream',
      clientToken: 'rdy',
    });
    // {"o":"InvalidRequest"} in CBOR
    expect(decodeRejection('cbor', Buffer.from('a1616f6e496e76616c696452657175657374', 'hex')).code).toBe(
      'InvalidRequest',
    );
  });
});

describe('image signature (sig-sha256-ecdsa)', () => {
  let ec: { certificatePem: string; privateKeyPem: string };
  let other: { certificatePem: string; privateKeyPem: string };
  let rsa: { certificatePem: string; privateKeyPem: string };
  const image = randomBytes(10_000);
  const sign = (bytes: Buffer, key: string) => createSign('sha256').update(bytes).sign(key);

  beforeAll(async () => {
    const now = new Date(Date.UTC(2030, 0, 1));
    ec = await generateCodeSigningMaterial('ECDSA', 'ota unit', now);
    other = await generateCodeSigningMaterial('ECDSA', 'ota other', now);
    rsa = await generateCodeSigningMaterial('RSA', 'ota rsa', now);
  });

  it('verifies a DER ECDSA signature over SHA-256 with the certificate', () => {
    const sig = sign(image, ec.privateKeyPem);
    expect(sig[0]).toBe(0x30); // ASN.1 SEQUENCE: DER, as Signer writes it
    expect(verifyImage(image, sig, ec.certificatePem)).toBe(true);
  });

  it('fails on a one-byte change, another certificate, an RSA certificate or garbage', () => {
    const sig = sign(image, ec.privateKeyPem);
    const changed = Buffer.from(image);
    changed[5000] = changed[5000]! ^ 0x01;
    expect(verifyImage(changed, sig, ec.certificatePem)).toBe(false);
    expect(verifyImage(image, sig, other.certificatePem)).toBe(false);
    expect(verifyImage(image, sign(image, rsa.privateKeyPem), rsa.certificatePem)).toBe(false);
    expect(verifyImage(image, Buffer.from('nope'), ec.certificatePem)).toBe(false);
    expect(verifyImage(image, sig, 'not a certificate')).toBe(false);
  });
});
