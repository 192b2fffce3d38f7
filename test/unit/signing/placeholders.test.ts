import { describe, expect, it } from 'vitest';
import {
  findCodeSignPlaceholders,
  parseCodeSignUrl,
  PlaceholderError,
  refId,
  replaceCodeSignPlaceholders,
  type SignatureForRef,
} from '../../../src/signing/code-sign-placeholders.js';
import { signaturesIn } from '../../../src/signing/signature-guard.js';

const block = (sig: string): SignatureForRef['block'] => ({
  rawPayloadSize: 4,
  signature: sig,
  signatureAlgorithm: 'SHA256withECDSA',
  payloadLocation: { s3: { bucketName: 'fw', key: 'a/b.bin', version: 'v1' } },
});
const sigs = (entries: [string, string][]): Map<string, SignatureForRef> =>
  new Map(entries.map(([url, sig]) => [refId(parseCodeSignUrl(url)), { block: block(sig) }]));

describe('code-sign placeholders (spec 6.3)', () => {
  it('parses region, bucket (dots allowed), key and version', () => {
    expect(parseCodeSignUrl('s3://us-east-1.fw/a/b.bin@v1')).toEqual({
      region: 'us-east-1',
      bucket: 'fw',
      key: 'a/b.bin',
      version: 'v1',
    });
    expect(parseCodeSignUrl('s3://eu-central-1.my.fw.bucket/k@x@ver')).toEqual({
      region: 'eu-central-1',
      bucket: 'my.fw.bucket',
      key: 'k@x',
      version: 'ver',
    });
    expect(parseCodeSignUrl('s3://us-gov-west-1.b/k@v').region).toBe('us-gov-west-1');
  });

  it.each([
    ['https://fw/a@v', /does not start with s3:\/\//],
    ['s3://us-east-1.fw', /names no bucket and key/],
    ['s3://fw/a.bin@v', /does not start with a region/],
    ['s3://us-east-1.fw/a.bin', /names no object version/],
    ['s3://us-east-1.fw/a.bin@', /names no object version/],
  ])('explains a malformed URL: %s', (url, message) => {
    expect(() => parseCodeSignUrl(url)).toThrow(PlaceholderError);
    expect(() => parseCodeSignUrl(url)).toThrow(message);
  });

  it('finds placeholders and the FreeRTOS key they are the value of', () => {
    const doc = JSON.stringify({
      codesign: '${aws:iot:code-sign-signature:s3://us-east-1.fw/a.bin@v1}',
      afr_ota: { files: [{ 'sig-sha256-ecdsa': '${aws:iot:code-sign-signature:s3://us-east-1.fw/b.bin@v2}' }] },
    });
    expect(findCodeSignPlaceholders(doc)).toEqual([
      { ref: { region: 'us-east-1', bucket: 'fw', key: 'a.bin', version: 'v1' } },
      { ref: { region: 'us-east-1', bucket: 'fw', key: 'b.bin', version: 'v2' }, freertosKey: 'sig-sha256-ecdsa' },
    ]);
  });

  it('puts a block for a whole string, base64 for a FreeRTOS key or inside text, and keeps the rest byte for byte', () => {
    const a = 's3://us-east-1.fw/a.bin@v1';
    const b = 's3://us-east-1.fw/b.bin@v2';
    const doc = `{
  "files": [ {"url": "\${aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/fw/a.bin}",
              "codesign": "\${aws:iot:code-sign-signature:${a}}"} ],
  "afr_ota": {"files": [{"filesize": 4, "sig-sha256-ecdsa" : "\${aws:iot:code-sign-signature:${b}}"}]},
  "note": "sig=\${aws:iot:code-sign-signature:${a}};",
  "n": 1.50
}`;
    const out = replaceCodeSignPlaceholders(
      doc,
      sigs([
        [a, 'SIGA'],
        [b, 'SIGB'],
      ]),
    );
    expect(out).toBe(`{
  "files": [ {"url": "\${aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/fw/a.bin}",
              "codesign": ${JSON.stringify(block('SIGA'))}} ],
  "afr_ota": {"files": [{"filesize": 4, "sig-sha256-ecdsa" : "SIGB"}]},
  "note": "sig=SIGA;",
  "n": 1.50
}`);
    expect(() => JSON.parse(out) as unknown).not.toThrow();
  });

  it('turns the nested presign form into a presigned URL of exactly the signed version (either closing brace)', () => {
    const a = 's3://us-east-1.fw/dir/fw v1+2.bin@Ab_-9';
    for (const close of ['}}', '}']) {
      const doc = `{"url":"\${aws:iot:s3-presigned-url:\${aws:iot:code-sign-signature:${a}${close}"}`;
      expect(replaceCodeSignPlaceholders(doc, sigs([[a, 'S']]))).toBe(
        '{"url":"${aws:iot:s3-presigned-url-v2:https://s3.us-east-1.amazonaws.com/fw/dir/fw%20v1%2B2.bin%3FversionId%3DAb_-9}"}',
      );
    }
  });

  it('refuses to replace a placeholder nothing was signed for', () => {
    expect(() =>
      replaceCodeSignPlaceholders('{"c":"${aws:iot:code-sign-signature:s3://us-east-1.fw/x@1}"}', new Map()),
    ).toThrow('No signature was made for s3://us-east-1.fw/x@1.');
  });
});

describe('signatures of a document (delivery-time check)', () => {
  it('collects the signatures of blocks and FreeRTOS keys', () => {
    const doc = JSON.stringify({
      a: { codesign: block('S1') },
      afr_ota: { files: [{ 'sig-sha256-ecdsa': 'S2' }, { 'sig-sha1-rsa': 'S3' }, { other: 'S4' }] },
    });
    expect(signaturesIn(doc).sort()).toEqual(['S1', 'S2', 'S3']);
    expect(signaturesIn('not json')).toEqual([]);
  });
});
