import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli, type CliResult } from '../helpers/aws-cli.js';
import { cli, cliEnv } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Error name the aws CLI prints: "An error occurred (ValidationException) when calling ...". */
const errorName = (r: CliResult): string | undefined => /An error occurred \((\w+)\)/.exec(r.stderr)?.[1];

describe('code signing with the aws CLI (aws acm, aws signer, aws s3api) and fleetjobs verify', () => {
  let t: TestServer;
  let dir: string;
  let certArn: string;
  let version: string;
  const firmware = randomBytes(40_000);
  const aws = async (...args: string[]): Promise<CliResult> => awsCli(t.endpoint, t.awsEnv(), args);
  const ok = async (...args: string[]): Promise<Record<string, unknown>> => {
    const r = await aws(...args);
    if (r.code !== 0) throw new Error(`aws ${args.join(' ')} failed: ${r.stderr}`);
    return (r.json ?? {}) as Record<string, unknown>;
  };
  const file = (name: string): string => join(dir, name);

  beforeAll(async () => {
    t = await startTestServer();
    dir = mkdtempSync(join(tmpdir(), 'fj-sign-cli-'));
    // A code-signing key and certificate made elsewhere, as an operator would bring them.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        file('key.pem'),
        '-out',
        file('cert.pem'),
        '-days',
        '365',
        '-subj',
        '/CN=Example Firmware Signing',
        '-addext',
        'extendedKeyUsage=codeSigning',
      ],
      { stdio: 'ignore' },
    );
    writeFileSync(file('fw.bin'), firmware);
    await ok('s3api', 'create-bucket', '--bucket', 'firmware');
    await ok('s3api', 'put-bucket-versioning', '--bucket', 'firmware', '--versioning-configuration', 'Status=Enabled');
    const put = await ok('s3api', 'put-object', '--bucket', 'firmware', '--key', 'fw.bin', '--body', file('fw.bin'));
    version = put.VersionId as string;
  });
  afterAll(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports the certificate and key with aws acm import-certificate; get-certificate gives the PEM back, never the key', async () => {
    const imported = await ok(
      'acm',
      'import-certificate',
      '--certificate',
      `fileb://${file('cert.pem')}`,
      '--private-key',
      `fileb://${file('key.pem')}`,
    );
    certArn = imported.CertificateArn as string;
    expect(certArn).toMatch(/^arn:aws:acm:us-east-1:000000000000:certificate\/[0-9a-f-]{36}$/);
    const got = await ok('acm', 'get-certificate', '--certificate-arn', certArn);
    expect((got.Certificate as string).trim()).toBe(
      execFileSync('openssl', ['x509', '-in', file('cert.pem')])
        .toString()
        .trim(),
    );
    expect(JSON.stringify(got)).not.toMatch(/PRIVATE KEY/);
    const described = await ok('acm', 'describe-certificate', '--certificate-arn', certArn);
    expect(described.Certificate).toMatchObject({
      CertificateArn: certArn,
      Type: 'IMPORTED',
      KeyAlgorithm: 'EC_prime256v1',
      Status: 'ISSUED',
      InUseBy: [],
    });
    const listed = await ok('acm', 'list-certificates');
    expect((listed.CertificateSummaryList as { CertificateArn: string }[]).map((c) => c.CertificateArn)).toContain(
      certArn,
    );
  });

  it('refuses a key that does not match the certificate, and unknown ARNs', async () => {
    execFileSync('openssl', [
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      file('other.pem'),
    ]);
    const r = await aws(
      'acm',
      'import-certificate',
      '--certificate',
      `fileb://${file('cert.pem')}`,
      '--private-key',
      `fileb://${file('other.pem')}`,
    );
    expect(r.code).not.toBe(0);
    expect(errorName(r)).toBe('InvalidParameterException');
    expect(r.stderr).toContain('The private key does not match the certificate.');
    const missing = await aws(
      'acm',
      'get-certificate',
      '--certificate-arn',
      'arn:aws:acm:us-east-1:000000000000:certificate/00000000-0000-0000-0000-000000000000',
    );
    expect(errorName(missing)).toBe('ResourceNotFoundException');
  });

  it('drives aws signer: platforms, a profile on the imported certificate, a signing job', async () => {
    const platforms = await ok('signer', 'list-signing-platforms');
    expect((platforms.platforms as { platformId: string }[]).map((p) => p.platformId)).toContain(
      'AWSIoTDeviceManagement-SHA256-ECDSA',
    );
    const platform = await ok('signer', 'get-signing-platform', '--platform-id', 'AmazonFreeRTOS-TI-CC3220SF');
    expect(platform).toMatchObject({ platformId: 'AmazonFreeRTOS-TI-CC3220SF', maxSizeInMB: 16 });
    const put = await ok(
      'signer',
      'put-signing-profile',
      '--profile-name',
      'cli_profile',
      '--platform-id',
      'AWSIoTDeviceManagement-SHA256-ECDSA',
      '--signing-material',
      `certificateArn=${certArn}`,
      '--signature-validity-period',
      'value=2,type=YEARS',
    );
    expect(put.arn).toBe('arn:aws:signer:us-east-1:000000000000:/signing-profiles/cli_profile');
    const profile = await ok('signer', 'get-signing-profile', '--profile-name', 'cli_profile');
    expect(profile).toMatchObject({
      signingMaterial: { certificateArn: certArn },
      signatureValidityPeriod: { value: 2, type: 'YEARS' },
      status: 'Active',
    });
    const started = await ok(
      'signer',
      'start-signing-job',
      '--profile-name',
      'cli_profile',
      '--source',
      `s3={bucketName=firmware,key=fw.bin,version=${version}}`,
      '--destination',
      's3={bucketName=firmware,prefix=signed-}',
      '--client-request-token',
      randomUUID(),
    );
    const job = await ok('signer', 'describe-signing-job', '--job-id', started.jobId as string);
    expect(job).toMatchObject({
      status: 'Succeeded',
      signingMaterial: { certificateArn: certArn },
      signedObject: { s3: { bucketName: 'firmware', key: `signed-${started.jobId as string}` } },
    });
    const listed = await ok('signer', 'list-signing-jobs', '--status', 'Succeeded');
    expect((listed.jobs as { jobId: string }[]).map((j) => j.jobId)).toEqual([started.jobId]);
    const signed = await aws(
      's3api',
      'get-object',
      '--bucket',
      'firmware',
      '--key',
      `signed-${started.jobId as string}`,
      file('signed.json'),
    );
    expect(signed.code).toBe(0);

    // fleetjobs verify: the signed object against the file, with the certificate.
    const good = await cli([
      'verify',
      file('fw.bin'),
      '--signature',
      file('signed.json'),
      '--certificate',
      file('cert.pem'),
    ]);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(
      /fw\.bin: signature OK \(SHA256withECDSA, 40000 bytes, signed by CN=Example Firmware Signing\)/,
    );
    const changed = Buffer.from(firmware);
    changed[20_000] = changed[20_000]! ^ 0x40;
    writeFileSync(file('fw-changed.bin'), changed);
    const bad = await cli([
      'verify',
      file('fw-changed.bin'),
      '--signature',
      file('signed.json'),
      '--certificate',
      file('cert.pem'),
    ]);
    expect(bad.code).toBe(9);
    expect(bad.stderr).toContain('the SHA256withECDSA signature does not match the file and the certificate');
    // The same check by openssl, from the DER signature (spec 6.4).
    const block = JSON.parse(readFileSync(file('signed.json'), 'utf8')) as { signature: string };
    writeFileSync(file('sig.der'), Buffer.from(block.signature, 'base64'));
    const json = await cli([
      'verify',
      file('fw.bin'),
      '--signature',
      file('sig.der'),
      '--certificate',
      file('cert.pem'),
      '--json',
    ]);
    expect(json.json).toMatchObject({ ok: true, algorithm: 'SHA256withECDSA', size: 40000 });
    const usage = await cli([
      'verify',
      file('nope.bin'),
      '--signature',
      file('sig.der'),
      '--certificate',
      file('cert.pem'),
    ]);
    expect(usage.code).toBe(2);
  });

  it('fills the code-sign placeholder of aws iot create-job (the only Active profile signs) and of fleetjobs jobs create --sign-with', async () => {
    await ok('iot', 'create-thing', '--thing-name', 'dev1');
    const placeholder = `\${aws:iot:code-sign-signature:s3://us-east-1.firmware/fw.bin@${version}}`;
    writeFileSync(file('job.json'), JSON.stringify({ files: [{ name: 'fw.bin', codesign: placeholder }] }));
    await ok(
      'iot',
      'create-job',
      '--job-id',
      'aws-cli-job',
      '--targets',
      'arn:aws:iot:us-east-1:000000000000:thing/dev1',
      '--document',
      `file://${file('job.json')}`,
    );
    const viaServer = await ok('iot', 'get-job-document', '--job-id', 'aws-cli-job');
    const doc = JSON.parse(viaServer.document as string) as { files: { codesign: object }[] };
    writeFileSync(file('entry.json'), JSON.stringify(doc.files[0]));
    const checked = await cli([
      'verify',
      file('fw.bin'),
      '--signature',
      file('entry.json'),
      '--certificate',
      file('cert.pem'),
    ]);
    expect(checked.code, checked.stderr).toBe(0);

    const created = await cli(
      ['jobs', 'create', 'cli-signed', '--document', file('job.json'), '--thing', 'dev1', '--sign-with', 'cli_profile'],
      { env: cliEnv(t) },
    );
    expect(created.code, created.stderr).toBe(0);
    const viaCli = await ok('iot', 'get-job-document', '--job-id', 'cli-signed');
    const entry = (JSON.parse(viaCli.document as string) as { files: { codesign: { signature: string } }[] }).files[0]!;
    expect(entry.codesign).toMatchObject({ rawPayloadSize: firmware.length, signatureAlgorithm: 'SHA256withECDSA' });
    writeFileSync(file('entry2.json'), JSON.stringify(entry));
    const again = await cli([
      'verify',
      file('fw.bin'),
      '--signature',
      file('entry2.json'),
      '--certificate',
      file('cert.pem'),
    ]);
    expect(again.code, again.stderr).toBe(0);
  });

  it('reports signer errors as the aws CLI expects them', async () => {
    const start = (profile: string, source: string) =>
      aws(
        'signer',
        'start-signing-job',
        '--profile-name',
        profile,
        '--source',
        source,
        '--destination',
        's3={bucketName=firmware}',
        '--client-request-token',
        randomUUID(),
      );
    const wrongVersion = await start('cli_profile', 's3={bucketName=firmware,key=fw.bin,version=nope}');
    expect(errorName(wrongVersion)).toBe('ValidationException');
    expect(wrongVersion.stderr).toContain('s3://firmware/fw.bin has no version nope.');
    const unknown = await start('nobody', `s3={bucketName=firmware,key=fw.bin,version=${version}}`);
    expect(errorName(unknown)).toBe('ResourceNotFoundException');
    const inUse = await aws('acm', 'delete-certificate', '--certificate-arn', certArn);
    expect(errorName(inUse)).toBe('ResourceInUseException');
    expect(inUse.stderr).toContain('in use by signing profile cli_profile');
    expect((await aws('signer', 'cancel-signing-profile', '--profile-name', 'cli_profile')).code).toBe(0);
    const canceled = await start('cli_profile', `s3={bucketName=firmware,key=fw.bin,version=${version}}`);
    expect(errorName(canceled)).toBe('ValidationException');
    expect(canceled.stderr).toContain('Signing profile cli_profile is Canceled and cannot start signing jobs.');
    const profiles = await ok('signer', 'list-signing-profiles', '--include-canceled');
    expect(profiles.profiles).toEqual([expect.objectContaining({ profileName: 'cli_profile', status: 'Canceled' })]);
  });
});
