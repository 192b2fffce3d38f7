import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../src/errors.js';
import {
  checkedPlaceholders,
  findPlaceholders,
  parseS3Url,
  substitute,
  type PlaceholderForm,
  type S3ObjectRef,
} from '../../src/documents/placeholders.js';
import { parseDocumentSource } from '../../src/documents/document-source.js';

const CASES: [string, PlaceholderForm, string, S3ObjectRef | undefined][] = [
  ['bucket/key (earliest form)', 'v1', 'firmware/fw.bin', { bucket: 'firmware', key: 'fw.bin' }],
  ['global path style', 'v1', 'https://s3.amazonaws.com/firmware/a/b.bin', { bucket: 'firmware', key: 'a/b.bin' }],
  [
    'regional path style, unencoded key with a space',
    'v1',
    'https://s3.us-west-2.amazonaws.com/firmware/fw v1+2.bin',
    { bucket: 'firmware', key: 'fw v1+2.bin' },
  ],
  [
    'v1 takes %20 literally',
    'v1',
    'https://s3.us-east-1.amazonaws.com/firmware/a%20b',
    { bucket: 'firmware', key: 'a%20b' },
  ],
  [
    'virtual-hosted regional',
    'v2',
    'https://my.firmware.s3.eu-west-1.amazonaws.com/dir/fw.bin',
    { bucket: 'my.firmware', key: 'dir/fw.bin' },
  ],
  [
    'virtual-hosted global',
    'v1',
    'https://firmware.s3.amazonaws.com/bundle.raucb',
    { bucket: 'firmware', key: 'bundle.raucb' },
  ],
  [
    'v2 decodes the key, including an encoded }',
    'v2',
    'https://s3.us-east-1.amazonaws.com/firmware/fw%20v1%2B2%7D.bin',
    { bucket: 'firmware', key: 'fw v1+2}.bin' },
  ],
  [
    'v2 pins a version with an encoded query',
    'v2',
    'https://s3.us-east-1.amazonaws.com/firmware/fw.bin%3FversionId%3DabcDEF_123',
    { bucket: 'firmware', key: 'fw.bin', versionId: 'abcDEF_123' },
  ],
  [
    'fleetjobs extension: ?versionId= in the v1 form',
    'v1',
    'https://s3.us-east-1.amazonaws.com/firmware/fw.bin?versionId=v-42',
    { bucket: 'firmware', key: 'fw.bin', versionId: 'v-42' },
  ],
  [
    "this server's own endpoint, path style",
    'v1',
    'http://127.0.0.1:8080/firmware/fw.bin',
    { bucket: 'firmware', key: 'fw.bin' },
  ],
  ['s3:// URL', 'v1', 's3://firmware/x/y.bin', { bucket: 'firmware', key: 'x/y.bin' }],
  ['no key', 'v1', 'https://s3.amazonaws.com/firmware/', undefined],
  ['no bucket', 'v1', 'https://s3.amazonaws.com/', undefined],
  ['bad bucket name', 'v1', 'Firmware_Bucket/fw.bin', undefined],
  ['other query parameter', 'v1', 'firmware/fw.bin?acl', undefined],
  ['raw space in the v2 form', 'v2', 'https://s3.amazonaws.com/firmware/a b', undefined],
  ['other scheme', 'v1', 'ftp://host/firmware/fw.bin', undefined],
];

describe('S3 URLs in placeholders (spec 6.1)', () => {
  it.each(CASES)('%s', (_name, form, url, expected) => {
    expect(parseS3Url(url, form)).toEqual(expected);
  });
});

describe('finding and substituting placeholders', () => {
  const doc = JSON.stringify({
    files: [
      { url: '${aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/firmware/a b.bin}' },
      { url: '${aws:iot:s3-presigned-url-v2:https://firmware.s3.us-east-1.amazonaws.com/k%7D.bin%3FversionId%3D7}' },
      { url: '${aws:iot:s3-presigned-url-v1:firmware/c.bin}' },
      { upload: '${aws:iot:s3-presigned-url-upload:https://s3.us-east-1.amazonaws.com/logs/${thingName}.log}' },
    ],
  });

  it('finds each form in order and leaves upload placeholders alone', () => {
    const found = findPlaceholders(doc);
    expect(found.map((p) => [p.form, p.ref])).toEqual([
      ['v1', { bucket: 'firmware', key: 'a b.bin' }],
      ['v2', { bucket: 'firmware', key: 'k}.bin', versionId: '7' }],
      ['v1', { bucket: 'firmware', key: 'c.bin' }],
    ]);
    const out = substitute(doc, found, ['https://u/1', 'https://u/2', 'https://u/3']);
    expect(JSON.parse(out)).toEqual({
      files: [
        { url: 'https://u/1' },
        { url: 'https://u/2' },
        { url: 'https://u/3' },
        { upload: '${aws:iot:s3-presigned-url-upload:https://s3.us-east-1.amazonaws.com/logs/${thingName}.log}' },
      ],
    });
  });

  it('a document without placeholders is returned as is', () => {
    expect(findPlaceholders('{"a":"${aws:iot:parameter:x}"}')).toEqual([]);
    expect(substitute('{"a":1}', [], [])).toBe('{"a":1}');
  });

  const refused = (document: string): string => {
    try {
      checkedPlaceholders(document);
    } catch (err) {
      expect(err).toBeInstanceOf(ServiceError);
      expect((err as ServiceError).code).toBe('InvalidRequest');
      return (err as ServiceError).message;
    }
    throw new Error('expected a refusal');
  };

  it('refuses placeholders that name no object, unknown forms and unclosed ones', () => {
    expect(refused('{"u":"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/onlybucket}"}')).toMatch(
      /does not name an S3 object/,
    );
    expect(refused('{"u":"${aws:iot:s3-presigned-url-v3:firmware/a}"}')).toMatch(/Unknown presigned-URL placeholder/);
    expect(refused('{"u":"${aws:iot:s3-presigned-url:firmware/a"}')).toMatch(/does not name an S3 object/);
  });

  it('allows at most 10 placeholders', () => {
    const many = (n: number): string =>
      JSON.stringify(Array.from({ length: n }, (_, i) => `\${aws:iot:s3-presigned-url:firmware/f${i}}`));
    expect(checkedPlaceholders(many(10))).toHaveLength(10);
    expect(refused(many(11))).toMatch(/at most 10/);
  });
});

describe('documentSource URLs', () => {
  it('reads path-style, virtual-hosted and versioned URLs', () => {
    expect(parseDocumentSource('https://s3.us-east-1.amazonaws.com/docs/job%20one.json')).toEqual({
      bucket: 'docs',
      key: 'job one.json',
    });
    expect(parseDocumentSource('https://docs.s3.amazonaws.com/job.json?versionId=v9')).toEqual({
      bucket: 'docs',
      key: 'job.json',
      versionId: 'v9',
    });
    expect(() => parseDocumentSource('https://example.com/')).toThrow(/not an S3 object URL/);
  });
});
