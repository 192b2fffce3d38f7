import { describe, expect, it } from 'vitest';
import { CborError, decodeCbor, encodeCbor } from '../../../src/protocols/mqtt/cbor.js';
import { getRequestOf } from '../../../src/protocols/mqtt/streams-payloads.js';
import { parseStreamsTopic } from '../../../src/protocols/mqtt/streams-topics.js';
import { selectBlocks, streamOfDocument } from '../../../src/streams/stream-delivery.js';

describe('CBOR codec (RFC 8949 subset)', () => {
  it('writes what tinycbor writes for the FreeRTOS GetStream request (ota_cbor.c)', () => {
    // {"c":"rdy","f":0,"l":4096,"o":0,"b":h'07',"n":1}: definite map, shortest heads.
    const bytes = encodeCbor({ c: 'rdy', f: 0, l: 4096, o: 0, b: Uint8Array.of(7), n: 1 });
    expect(bytes.toString('hex')).toBe('a6616363726479616600616c19100061 6f0061624107616e01'.replace(/ /g, ''));
    expect(decodeCbor(bytes)).toEqual({ c: 'rdy', f: 0, l: 4096, o: 0, b: Uint8Array.of(7), n: 1 });
  });

  it('round-trips integers of every width, negatives, text, bytes, arrays, booleans and null', () => {
    const value = {
      a: [0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, -1, -25, -70000],
      t: 'héllo',
      b: Uint8Array.from([0, 1, 255]),
      x: [true, false, null],
    };
    expect(decodeCbor(encodeCbor(value))).toEqual(value);
  });

  it.each([
    ['truncated', 'a1616300'.slice(0, 6)],
    ['trailing bytes', 'a0 00'],
    ['a float', 'fa3fc00000'],
    ['a tag', 'c11a514b67b0'],
    ['an indefinite map', 'bf ff'],
    ['a non-text key', 'a1 01 02'],
    ['a duplicate key', 'a2 6161 01 6161 02'],
    ['invalid UTF-8', '62 c328'],
    ['a huge array count', '9b 00 00 00 00 ff ff ff ff'],
  ])('refuses %s', (_what, hex) => {
    expect(() => decodeCbor(Buffer.from(hex.replace(/ /g, ''), 'hex'))).toThrow(CborError);
  });

  it('refuses nesting deeper than 16', () => {
    expect(() => decodeCbor(Buffer.from('81'.repeat(40) + '00', 'hex'))).toThrow(/deeply/);
  });
});

describe('streams wire', () => {
  it('parses the topics', () => {
    expect(parseStreamsTopic('$aws/things/t/streams/s1/get/cbor')).toEqual({
      kind: 'request',
      thingName: 't',
      streamId: 's1',
      operation: 'GetStream',
      format: 'cbor',
    });
    expect(parseStreamsTopic('$aws/things/t/streams/s1/describe/json')).toMatchObject({ operation: 'DescribeStream' });
    expect(parseStreamsTopic('$aws/things/t/streams/s1/data/json')).toEqual({ kind: 'service-only', thingName: 't' });
    expect(parseStreamsTopic('$aws/things/t/streams/s1/rejected/cbor').kind).toBe('service-only');
    expect(parseStreamsTopic('$aws/things/t/streams/s1/put/json')).toEqual({
      kind: 'unknown',
      thingName: 't',
      streamId: 's1',
      format: 'json',
    });
    expect(parseStreamsTopic('$aws/things/t/streams/s1/get/xml')).toEqual({ kind: 'unknown', thingName: 't' });
    expect(parseStreamsTopic('$aws/things/t/jobs/get').kind).toBe('other');
  });

  it('reads the JSON bitmap as hex, as the developer guide example writes it', () => {
    const req = getRequestOf('json', { f: 1, l: 256, o: 20, n: 32, b: '0x130080' });
    expect(Buffer.from(req.bitmap!).toString('hex')).toBe('130080');
    // Blocks 20, 21, 24 and 43 (the guide's example), here of a file of 44 blocks.
    expect(selectBlocks(req, 44, 32)).toEqual([20, 21, 24, 43]);
    expect(selectBlocks(req, 40, 32)).toEqual([20, 21, 24]);
    expect(selectBlocks(req, 44, 2)).toEqual([20, 21]);
    expect(() => getRequestOf('json', { f: 1, l: 256, b: '0x1' })).toThrow(/hexadecimal/);
    expect(() => getRequestOf('cbor', { f: 1, l: 256, b: '0x13' })).toThrow(/byte string/);
    expect(() => getRequestOf('json', { l: 256 })).toThrow(/"f"/);
    expect(() => getRequestOf('json', { f: '1', l: 256 })).toThrow(/integer/);
  });

  it('selects consecutive blocks from the offset without a bitmap', () => {
    expect(selectBlocks({ fileId: 0, blockSize: 256, blockOffset: 3 }, 5, 10)).toEqual([3, 4]);
    expect(selectBlocks({ fileId: 0, blockSize: 256 }, 100, 4)).toEqual([0, 1, 2, 3]);
  });

  it('finds afr_ota.streamname in a job document', () => {
    expect(streamOfDocument(JSON.stringify({ afr_ota: { streamname: 'AFR_OTA-1', files: [] } }))).toBe('AFR_OTA-1');
    expect(streamOfDocument(JSON.stringify({ streamname: 'x' }))).toBeUndefined();
    expect(streamOfDocument('{"afr_ota":{"streamname":3}}')).toBeUndefined();
    expect(streamOfDocument('not json streamname')).toBeUndefined();
  });
});
