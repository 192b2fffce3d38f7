import { describe, expect, it } from 'vitest';
import { findPlaceholders } from '../../src/documents/placeholders.js';
import {
  buildOtaDocument,
  jobConfigsOf,
  otaJobId,
  presignedPlaceholder,
  protocolsOf,
  signatureKey,
} from '../../src/ota/ota-document.js';
import { checkCreateOtaUpdate, type CreateOtaUpdateInput } from '../../src/ota/ota.schemas.js';
import { ServiceError } from '../../src/errors.js';

// The job document in aws/ota-for-aws-iot-embedded-sdk test/unit-test/ota_utest.c JOB_DOC_A (the
// `jobDocument` member), with the file size the test builds in: what the device library parses.
const LIBRARY_JOB_DOC_A = {
  afr_ota: {
    protocols: ['MQTT'],
    streamname: 'AFR_OTA-XYZ',
    files: [
      {
        filepath: '/test/demo',
        filesize: 1048576,
        fileid: 0,
        certfile: 'test.crt',
        'sig-sha256-ecdsa':
          'MEQCIF2QDvww1G/kpRGZ8FYvQrok1bSZvXjXefRk7sqNcyPTAiB4dvGt8fozIY5NC0vUDJ2MY42ZERYEcrbwA4n6q7vrBg==',
      },
    ],
  },
};

describe('the afr_ota job document (spec 6.5)', () => {
  it('matches the OTA library test document key for key, in its order (MQTT)', () => {
    const doc = buildOtaDocument({
      protocols: ['MQTT'],
      streamName: 'AFR_OTA-XYZ',
      region: 'us-east-1',
      files: [
        {
          filePath: '/test/demo',
          fileSize: 1048576,
          fileId: 0,
          certFile: 'test.crt',
          httpObject: { bucket: 'fw', key: 'demo.bin', version: 'v1' },
          signature: { key: 'sig-sha256-ecdsa', value: LIBRARY_JOB_DOC_A.afr_ota.files[0]!['sig-sha256-ecdsa'] },
        },
      ],
    });
    expect(JSON.stringify(doc)).toBe(JSON.stringify(LIBRARY_JOB_DOC_A));
  });

  it('HTTP: update_data_url is a presigned-URL placeholder of the pinned version, auth_scheme aws.s3.presigned, no streamname', () => {
    const doc = buildOtaDocument({
      protocols: ['HTTP'],
      streamName: 'AFR_OTA-ignored',
      region: 'eu-west-1',
      files: [
        {
          filePath: 'fw.bin',
          fileSize: 10,
          fileId: 0,
          fileType: 2,
          httpObject: { bucket: 'firmware', key: 'a/b.bin', version: 'V1' },
        },
      ],
    });
    expect(doc).toEqual({
      afr_ota: {
        protocols: ['HTTP'],
        files: [
          {
            filepath: 'fw.bin',
            filesize: 10,
            fileid: 0,
            fileType: 2,
            update_data_url:
              '${aws:iot:s3-presigned-url:https://s3.eu-west-1.amazonaws.com/firmware/a/b.bin?versionId=V1}',
            auth_scheme: 'aws.s3.presigned',
          },
        ],
      },
    });
    // The jobs service's own parser reads it back as that object version.
    const [p] = findPlaceholders(JSON.stringify(doc));
    expect(p!.ref).toEqual({ bucket: 'firmware', key: 'a/b.bin', versionId: 'V1' });
  });

  it('both protocols: streamname and update_data_url; the device chooses', () => {
    const doc = buildOtaDocument({
      protocols: ['MQTT', 'HTTP'],
      streamName: 'AFR_OTA-1',
      region: 'us-east-1',
      files: [{ filePath: 'x', fileSize: 1, fileId: 3, httpObject: { bucket: 'fw', key: 'x' } }],
    });
    expect(doc.afr_ota.streamname).toBe('AFR_OTA-1');
    expect((doc.afr_ota.files as Record<string, unknown>[])[0]).toMatchObject({
      fileid: 3,
      update_data_url: '${aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/fw/x}',
    });
  });

  it('keys v1 cannot carry go in the encoded v2 form, and parse back to the same object', () => {
    for (const key of ['fw v1+2}.bin', 'a#c%d.bin', 'quote"s.bin']) {
      const text = JSON.stringify({
        u: presignedPlaceholder('us-east-1', { bucket: 'firmware', key, version: 'v/1' }),
      });
      expect(text).toContain('s3-presigned-url-v2:');
      expect(findPlaceholders(text)[0]!.ref).toEqual({ bucket: 'firmware', key, versionId: 'v/1' });
    }
  });

  it('signature keys as the FreeRTOS ports name them (OTA_JsonFileSignatureKey)', () => {
    expect(signatureKey('SHA256', 'ECDSA')).toBe('sig-sha256-ecdsa');
    expect(signatureKey('SHA1', 'RSA')).toBe('sig-sha1-rsa');
    expect(signatureKey('sha-256', 'rsa')).toBe('sig-sha256-rsa');
  });

  it('job id, default protocol, and the aws* configurations as CreateJob members', () => {
    expect(otaJobId('fw-42')).toBe('AFR_OTA-fw-42');
    expect(protocolsOf(undefined)).toEqual(['MQTT']);
    expect(protocolsOf(['HTTP', 'HTTP'])).toEqual(['HTTP']);
    const role = 'arn:aws:iam::000000000000:role/ota';
    const criteria = [
      {
        failureType: 'FAILED' as const,
        action: 'CANCEL' as const,
        thresholdPercentage: 10,
        minNumberOfExecutedThings: 2,
      },
    ];
    expect(
      jobConfigsOf(
        {
          awsJobExecutionsRolloutConfig: { maximumPerMinute: 5 },
          awsJobAbortConfig: { abortCriteriaList: criteria },
          awsJobTimeoutConfig: { inProgressTimeoutInMinutes: 30 },
        },
        role,
        ['MQTT', 'HTTP'],
      ),
    ).toEqual({
      jobExecutionsRolloutConfig: { maximumPerMinute: 5 },
      presignedUrlConfig: { roleArn: role, expiresInSec: 1800 },
      abortConfig: { criteriaList: criteria },
      timeoutConfig: { inProgressTimeoutInMinutes: 30 },
    });
    expect(jobConfigsOf({ awsJobPresignedUrlConfig: { expiresInSec: 600 } }, role, ['MQTT'])).toEqual({});
  });
});

describe('CreateOTAUpdate request checks', () => {
  const good: CreateOtaUpdateInput = {
    otaUpdateId: 'fw-1',
    targets: ['arn:aws:iot:us-east-1:000000000000:thing/t1'],
    files: [{ fileName: 'a', fileLocation: { s3Location: { bucket: 'b', key: 'k' } } }],
    roleArn: 'arn:aws:iam::000000000000:role/ota',
  };
  const error = (input: unknown): string => {
    try {
      checkCreateOtaUpdate(input as CreateOtaUpdateInput);
    } catch (err) {
      expect(err).toBeInstanceOf(ServiceError);
      return (err as ServiceError).message;
    }
    return '';
  };

  it('accepts a minimal request', () => {
    expect(error(good)).toBe('');
  });

  it('refuses what the service model refuses, in the Coral message style', () => {
    expect(error({ ...good, otaUpdateId: 'bad id' })).toMatch(
      /Value 'bad id' at 'otaUpdateId' failed to satisfy constraint/,
    );
    expect(error({ ...good, targets: [] })).toMatch(/'targets'.*length greater than or equal to 1/);
    expect(error({ ...good, protocols: ['FTP'] })).toMatch(/protocols.1.member.*enum value set: \[MQTT, HTTP\]/);
    expect(error({ ...good, files: [] })).toMatch(/'files'/);
    expect(error({ ...good, roleArn: undefined })).toMatch(/roleArn.*must not be null/);
    expect(error({ ...good, files: [{ fileType: 256 }] })).toMatch(/fileType/);
    expect(error({ ...good, awsJobPresignedUrlConfig: { expiresInSec: 10 } })).toMatch(/expiresInSec/);
  });
});
