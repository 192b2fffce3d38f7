import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/exit-codes.js';
import { jobConfigsFrom, parseAbort, parseRetry, parseWaves, parseWindow } from '../../src/cli/job-options.js';
import {
  findCodeSignPlaceholders,
  parseS3ObjectUrl,
  replaceCodeSign,
  unsignedFileEntries,
} from '../../src/cli/placeholders.js';
import { documentSourceUrl } from '../../src/cli/job-create.js';

describe('job configuration flags', () => {
  it('translates every flag into the CreateJob members', () => {
    expect(
      jobConfigsFrom({
        description: 'd',
        maxPerMinute: 100,
        exponentialRate: 'base=5,factor=1.5,succeeded=20',
        abort: ['ALL:12.5:3'],
        timeoutMinutes: 60,
        retry: ['ALL:10'],
        startTime: '2031-01-01T00:00',
        endTime: '2031-02-01T00:00',
        endBehavior: 'FORCE_CANCEL',
        maintenanceWindow: ['cron(0 1 * * ? *)@30'],
        waves: '5,10%,85%',
        presignRole: 'arn:aws:iam::000000000000:role/r',
      }),
    ).toEqual({
      description: 'd',
      jobExecutionsRolloutConfig: {
        maximumPerMinute: 100,
        exponentialRate: {
          baseRatePerMinute: 5,
          incrementFactor: 1.5,
          rateIncreaseCriteria: { numberOfSucceededThings: 20 },
        },
      },
      abortConfig: {
        criteriaList: [
          { failureType: 'ALL', action: 'CANCEL', thresholdPercentage: 12.5, minNumberOfExecutedThings: 3 },
        ],
      },
      timeoutConfig: { inProgressTimeoutInMinutes: 60 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'ALL', numberOfRetries: 10 }] },
      schedulingConfig: {
        startTime: '2031-01-01T00:00',
        endTime: '2031-02-01T00:00',
        endBehavior: 'FORCE_CANCEL',
        maintenanceWindows: [{ startTime: 'cron(0 1 * * ? *)', durationInMinutes: 30 }],
      },
      presignedUrlConfig: { roleArn: 'arn:aws:iam::000000000000:role/r' },
      stagedRollout: {
        waves: [{ count: 5 }, { percentage: 10 }, { percentage: 85 }],
        successThresholdPercentage: 100,
        onGateFailure: 'PAUSE',
      },
    });
    expect(jobConfigsFrom({})).toEqual({});
  });

  it.each([
    [() => parseAbort('FAILED:101:1'), "--abort percent '101' must be a number from 0 to 100"],
    [() => parseAbort('FAILED:10:0'), "--abort min '0' must be a whole number from 1 to 9007199254740991"],
    [() => parseAbort('NOPE:10:1'), "--abort type 'NOPE' must be one of FAILED, REJECTED, TIMED_OUT, ALL"],
    [() => parseRetry('REJECTED:1'), "--retry type 'REJECTED' must be one of FAILED, TIMED_OUT, ALL"],
    [() => parseRetry('FAILED:11'), "--retry count '11' must be a whole number from 0 to 10"],
    [() => parseWaves('10,,20'), "--waves '10,,20' must list wave sizes"],
    [() => parseWaves('0'), "--waves count '0' must be a whole number from 1 to 9007199254740991"],
    [
      () => parseWindow('cron(0 1 * * ? *)'),
      "--maintenance-window 'cron(0 1 * * ? *)' must be <cron expression>@<minutes>",
    ],
    [() => parseWindow('x@1431'), "--maintenance-window minutes '1431' must be a whole number from 1 to 1430"],
    [
      () => jobConfigsFrom({ exponentialRate: 'base=5,factor=2' }),
      '--exponential-rate needs exactly one of notified=N and succeeded=N',
    ],
    [
      () => jobConfigsFrom({ exponentialRate: 'base=5,factor=9,notified=1' }),
      "--exponential-rate factor '9' must be a number from 1.1 to 5",
    ],
    [
      () => jobConfigsFrom({ exponentialRate: 'rate=5' }),
      "--exponential-rate: unknown key 'rate' (use base, factor, notified, succeeded)",
    ],
    [() => jobConfigsFrom({ presignExpiry: 60 }), '--presign-expiry needs --presign-role'],
    [() => jobConfigsFrom({ onGateFailure: 'ABORT' }), '--wave-success-threshold and --on-gate-failure need --waves'],
    [
      () => documentSourceUrl('ftp://x/y', 'us-east-1'),
      "--document-source 'ftp://x/y' must be s3://bucket/key or an https:// S3 object URL",
    ],
  ])('refuses bad values with a usage error (%#)', (fn, message) => {
    expect(fn).toThrow(UsageError);
    expect(fn).toThrow(message);
  });

  it('writes s3:// document sources in the documented https form', () => {
    expect(documentSourceUrl('s3://docs/jobs/a.json', 'eu-west-1')).toBe(
      'https://s3.eu-west-1.amazonaws.com/docs/jobs/a.json',
    );
    expect(documentSourceUrl('https://s3.us-east-1.amazonaws.com/d/k', 'eu-west-1')).toBe(
      'https://s3.us-east-1.amazonaws.com/d/k',
    );
  });
});

describe('document placeholders the CLI fills in', () => {
  it('parses every S3 URL form of spec 6.1', () => {
    expect(parseS3ObjectUrl('https://s3.us-east-1.amazonaws.com/fw/a/b.bin')).toEqual({ bucket: 'fw', key: 'a/b.bin' });
    expect(parseS3ObjectUrl('https://fw.s3.us-east-1.amazonaws.com/a/b.bin')).toEqual({ bucket: 'fw', key: 'a/b.bin' });
    expect(parseS3ObjectUrl('https://s3.amazonaws.com/fw/x')).toEqual({ bucket: 'fw', key: 'x' });
    expect(parseS3ObjectUrl('https://my.bucket.s3.amazonaws.com/x')).toEqual({ bucket: 'my.bucket', key: 'x' });
    expect(parseS3ObjectUrl('fw/x.bin')).toEqual({ bucket: 'fw', key: 'x.bin' });
    expect(parseS3ObjectUrl('https://s3.us-east-1.amazonaws.com/fw/fw%20v1%2B2%7D.bin%3FversionId%3Dabc123')).toEqual({
      bucket: 'fw',
      key: 'fw v1+2}.bin',
      version: 'abc123',
    });
    expect(parseS3ObjectUrl('https://s3.us-east-1.amazonaws.com/fw')).toBeUndefined();
  });

  it('finds and fills code-sign placeholders: a whole string becomes the block, inside a string the signature', () => {
    const p = '${aws:iot:code-sign-signature:s3://us-east-1.fw.v2/app/fw@1.bin@v123}';
    const doc = JSON.stringify({ sig: p, note: `sig=${p}`, again: p });
    const found = findCodeSignPlaceholders(doc);
    expect(found).toEqual([{ text: p, region: 'us-east-1', bucket: 'fw.v2', key: 'app/fw@1.bin', version: 'v123' }]);
    const block = { signature: 'MEUCIQ==', signatureAlgorithm: 'SHA256withECDSA', rawPayloadSize: 3 };
    expect(JSON.parse(replaceCodeSign(doc, p, block))).toEqual({ sig: block, note: 'sig=MEUCIQ==', again: block });
  });

  it('finds files that carry a presigned URL and no codesign block yet', () => {
    const doc = {
      version: '1.0',
      files: [
        { name: 'a', url: '${aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/fw/a.bin}' },
        { name: 'b', url: '${aws:iot:s3-presigned-url-v2:https://s3.us-east-1.amazonaws.com/fw/b.bin}', codesign: {} },
      ],
      steps: [{ action: { name: 'x', type: 'runHandler', input: { handler: 'x.sh', args: ['plain'] } } }],
    };
    const entries = unsignedFileEntries(doc);
    expect(entries.map((e) => e.ref)).toEqual([{ bucket: 'fw', key: 'a.bin' }]);
    expect(entries[0]!.holder).toBe(doc.files[0]);
  });
});
