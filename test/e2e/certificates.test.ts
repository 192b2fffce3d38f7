import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IoTClient } from '@aws-sdk/client-iot';
import {
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DeleteCACertificateCommand,
  DeleteCertificateCommand,
  DescribeCACertificateCommand,
  DeleteThingCommand,
  DescribeCertificateCommand,
  DescribeEndpointCommand,
  DetachThingPrincipalCommand,
  ListCACertificatesCommand,
  ListCertificatesByCACommand,
  ListCertificatesCommand,
  ListPrincipalThingsCommand,
  ListThingPrincipalsCommand,
  RegisterCACertificateCommand,
  RegisterCertificateCommand,
  UpdateCACertificateCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { LocalCa, newRsaKeyPair } from '../../src/certificates/local-ca.js';
import { awsCli } from '../helpers/aws-cli.js';
import { caPem } from '../helpers/devices.js';
import { DIALECTS } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { rejection } from '../helpers/rejection.js';

describe.each(DIALECTS)('certificates and principals with @aws-sdk/client-iot on %s', (dialect) => {
  let t: TestServer;
  let iot: IoTClient;
  beforeAll(async () => {
    t = await startTestServer({ dialect });
    iot = t.iot();
  });
  afterAll(async () => t?.stop());

  it('creates the local CA on first start with its key file mode 0600', () => {
    const ca = new X509Certificate(caPem(t));
    expect(ca.ca).toBe(true);
    expect(statSync(join(t.dataDir, 'ca', 'ca-key.pem')).mode & 0o777).toBe(0o600);
    expect(t.server.endpoints.mqtt).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    expect(t.server.endpoints.deviceHttps).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('CreateKeysAndCertificate returns an RSA 2048 key pair once and a certificate signed by the CA', async () => {
    const out = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    expect(out.certificateId).toMatch(/^[0-9a-f]{64}$/);
    expect(out.certificateArn).toBe(`arn:aws:iot:us-east-1:000000000000:cert/${out.certificateId}`);
    expect(out.keyPair?.PrivateKey).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(out.keyPair?.PublicKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const cert = new X509Certificate(out.certificatePem!);
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(cert.verify(new X509Certificate(caPem(t)).publicKey)).toBe(true);
    expect(cert.fingerprint256.replace(/:/g, '').toLowerCase()).toBe(out.certificateId);
    const d = await iot.send(new DescribeCertificateCommand({ certificateId: out.certificateId }));
    expect(d.certificateDescription).toMatchObject({
      certificateId: out.certificateId,
      certificateArn: out.certificateArn,
      status: 'ACTIVE',
      certificatePem: out.certificatePem,
      ownedBy: '000000000000',
      customerVersion: 1,
      certificateMode: 'DEFAULT',
    });
    expect(d.certificateDescription?.creationDate).toBeInstanceOf(Date);
    expect(d.certificateDescription?.validity?.notAfter?.toISOString()).toBe('2049-12-31T23:59:59.000Z');
    // The private key is not kept anywhere the API can show it.
    expect(JSON.stringify(d)).not.toContain('PRIVATE KEY');
  });

  it('UpdateCertificate moves between ACTIVE and INACTIVE; REVOKED is final', async () => {
    const { certificateId } = await iot.send(new CreateKeysAndCertificateCommand({}));
    const status = async () =>
      (await iot.send(new DescribeCertificateCommand({ certificateId }))).certificateDescription?.status;
    expect(await status()).toBe('INACTIVE');
    await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'ACTIVE' }));
    expect(await status()).toBe('ACTIVE');
    await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'REVOKED' }));
    expect(
      await rejection(iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'ACTIVE' }))),
    ).toMatchObject({ name: 'CertificateStateException', status: 406 });
    expect(
      await rejection(iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'PENDING_TRANSFER' }))),
    ).toMatchObject({ name: 'InvalidRequestException', status: 400 });
    expect(
      await rejection(iot.send(new UpdateCertificateCommand({ certificateId: 'ab'.repeat(32), newStatus: 'ACTIVE' }))),
    ).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
  });

  it('attaches and detaches principals; lists both ways; delete rules follow AWS', async () => {
    const { certificateId, certificateArn } = await iot.send(
      new CreateKeysAndCertificateCommand({ setAsActive: true }),
    );
    for (const thingName of ['p-1', 'p-2']) {
      await iot.send(new CreateThingCommand({ thingName }));
      await iot.send(new AttachThingPrincipalCommand({ thingName, principal: certificateArn }));
    }
    expect((await iot.send(new ListThingPrincipalsCommand({ thingName: 'p-1' }))).principals).toEqual([certificateArn]);
    const page1 = await iot.send(new ListPrincipalThingsCommand({ principal: certificateArn, maxResults: 1 }));
    expect(page1.things).toEqual(['p-1']);
    const page2 = await iot.send(
      new ListPrincipalThingsCommand({ principal: certificateArn, maxResults: 1, nextToken: page1.nextToken }),
    );
    expect(page2).toMatchObject({ things: ['p-2'] });
    expect(page2.nextToken).toBeUndefined();

    // A thing with principals cannot be deleted; an ACTIVE or attached certificate cannot either.
    expect(await rejection(iot.send(new DeleteThingCommand({ thingName: 'p-1' })))).toMatchObject({
      name: 'InvalidRequestException',
      status: 400,
    });
    expect(await rejection(iot.send(new DeleteCertificateCommand({ certificateId })))).toMatchObject({
      name: 'CertificateStateException',
      status: 406,
    });
    await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }));
    expect(await rejection(iot.send(new DeleteCertificateCommand({ certificateId })))).toMatchObject({
      name: 'DeleteConflictException',
      status: 409,
    });
    for (const thingName of ['p-1', 'p-2']) {
      await iot.send(new DetachThingPrincipalCommand({ thingName, principal: certificateArn }));
    }
    expect((await iot.send(new ListThingPrincipalsCommand({ thingName: 'p-1' }))).principals).toEqual([]);
    await iot.send(new DeleteThingCommand({ thingName: 'p-1' }));
    await iot.send(new DeleteCertificateCommand({ certificateId }));
    expect(await rejection(iot.send(new DescribeCertificateCommand({ certificateId })))).toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('refuses unknown things and principals', async () => {
    const { certificateArn } = await iot.send(new CreateKeysAndCertificateCommand({}));
    expect(
      await rejection(iot.send(new AttachThingPrincipalCommand({ thingName: 'nope', principal: certificateArn }))),
    ).toMatchObject({ name: 'ResourceNotFoundException' });
    await iot.send(new CreateThingCommand({ thingName: 'p-3' }));
    expect(
      await rejection(
        iot.send(
          new AttachThingPrincipalCommand({
            thingName: 'p-3',
            principal: `arn:aws:iot:us-east-1:000000000000:cert/${'0'.repeat(64)}`,
          }),
        ),
      ),
    ).toMatchObject({ name: 'ResourceNotFoundException' });
    expect(
      await rejection(iot.send(new AttachThingPrincipalCommand({ thingName: 'p-3', principal: 'not-an-arn' }))),
    ).toMatchObject({ name: 'InvalidRequestException' });
    // EXCLUSIVE_THING: the principal may be attached to this thing only.
    await iot.send(
      new AttachThingPrincipalCommand({
        thingName: 'p-3',
        principal: certificateArn,
        thingPrincipalType: 'EXCLUSIVE_THING',
      }),
    );
    await iot.send(new CreateThingCommand({ thingName: 'p-4' }));
    expect(
      await rejection(iot.send(new AttachThingPrincipalCommand({ thingName: 'p-4', principal: certificateArn }))),
    ).toMatchObject({ name: 'InvalidRequestException' });
  });

  it('ListCertificates pages by creation date with a base64 marker, newest first by default', async () => {
    const all: string[] = [];
    let marker: string | undefined;
    do {
      const page = await iot.send(new ListCertificatesCommand({ pageSize: 2, marker }));
      all.push(...page.certificates!.map((c) => c.certificateId!));
      if (page.nextMarker) expect(page.nextMarker).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
      marker = page.nextMarker;
    } while (marker);
    // Made by the tests above (one was deleted).
    expect(all.length).toBe(3);
    expect(new Set(all).size).toBe(all.length);
    const asc = await iot.send(new ListCertificatesCommand({ ascendingOrder: true, pageSize: 250 }));
    expect(asc.certificates!.map((c) => c.certificateId)).toEqual([...all].reverse());
  });

  it("registers a user's CA and the device certificates it issued", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'user-ca-'));
    try {
      const userCa = await LocalCa.open(dir, `user CA ${dialect}`);
      const keys = await newRsaKeyPair();
      const devicePem = await userCa.issue({ publicKey: keys.publicKey, commonName: 'device-1' });
      // Not yet: the CA is unknown.
      expect(
        await rejection(iot.send(new RegisterCertificateCommand({ certificatePem: devicePem, setAsActive: true }))),
      ).toMatchObject({ name: 'CertificateValidationException', status: 400 });
      // A leaf certificate is not a CA.
      expect(await rejection(iot.send(new RegisterCACertificateCommand({ caCertificate: devicePem })))).toMatchObject({
        name: 'CertificateValidationException',
      });
      const ca = await iot.send(
        new RegisterCACertificateCommand({
          caCertificate: userCa.certificatePem,
          tags: [{ Key: 'owner', Value: 'ops' }],
        }),
      );
      expect(ca.certificateArn).toBe(`arn:aws:iot:us-east-1:000000000000:cacert/${ca.certificateId}`);
      expect(
        await rejection(iot.send(new RegisterCACertificateCommand({ caCertificate: userCa.certificatePem }))),
      ).toMatchObject({ name: 'ResourceAlreadyExistsException', status: 409 });
      const described = await iot.send(new DescribeCACertificateCommand({ certificateId: ca.certificateId }));
      expect(described.certificateDescription).toMatchObject({ status: 'INACTIVE', autoRegistrationStatus: 'DISABLE' });
      expect((await iot.send(new ListCACertificatesCommand({}))).certificates?.map((c) => c.certificateId)).toContain(
        ca.certificateId,
      );

      const reg = await iot.send(
        new RegisterCertificateCommand({ certificatePem: devicePem, caCertificatePem: userCa.certificatePem }),
      );
      const d = await iot.send(new DescribeCertificateCommand({ certificateId: reg.certificateId }));
      expect(d.certificateDescription).toMatchObject({ caCertificateId: ca.certificateId, status: 'INACTIVE' });
      expect(
        await rejection(iot.send(new RegisterCertificateCommand({ certificatePem: devicePem, status: 'ACTIVE' }))),
      ).toMatchObject({ name: 'ResourceAlreadyExistsException', status: 409 });
      const byCa = await iot.send(new ListCertificatesByCACommand({ caCertificateId: ca.certificateId }));
      expect(byCa.certificates?.map((c) => c.certificateId)).toEqual([reg.certificateId]);
      // Signed by a different CA than the one named.
      const ours = await iot.send(new CreateKeysAndCertificateCommand({}));
      await iot.send(new UpdateCertificateCommand({ certificateId: ours.certificateId, newStatus: 'INACTIVE' }));
      await iot.send(new DeleteCertificateCommand({ certificateId: ours.certificateId }));
      expect(
        await rejection(
          iot.send(
            new RegisterCertificateCommand({
              certificatePem: ours.certificatePem,
              caCertificatePem: userCa.certificatePem,
            }),
          ),
        ),
      ).toMatchObject({ name: 'CertificateValidationException' });
      // Our own CA's certificate registers again without naming a CA.
      await iot.send(new RegisterCertificateCommand({ certificatePem: ours.certificatePem }));

      // A CA with certificates, or ACTIVE, cannot be deleted.
      await iot.send(new UpdateCACertificateCommand({ certificateId: ca.certificateId, newStatus: 'ACTIVE' }));
      expect(
        await rejection(iot.send(new DeleteCACertificateCommand({ certificateId: ca.certificateId }))),
      ).toMatchObject({
        name: 'CertificateStateException',
        status: 406,
      });
      await iot.send(new UpdateCACertificateCommand({ certificateId: ca.certificateId, newStatus: 'INACTIVE' }));
      await iot.send(new DeleteCertificateCommand({ certificateId: reg.certificateId }));
      await iot.send(new DeleteCACertificateCommand({ certificateId: ca.certificateId }));
      expect(
        await rejection(iot.send(new DescribeCACertificateCommand({ certificateId: ca.certificateId }))),
      ).toMatchObject({ name: 'ResourceNotFoundException' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('DescribeEndpoint names the real device listeners', async () => {
    const mqttPort = new URL(t.server.endpoints.mqtt!.replace('mqtts', 'https')).port;
    const httpsPort = new URL(t.server.endpoints.deviceHttps!).port;
    const data = await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
    expect(data.endpointAddress).toBe(`127.0.0.1:${mqttPort}`);
    const jobs = await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Jobs' }));
    expect(jobs.endpointAddress).toBe(`127.0.0.1:${httpsPort}`);
  });

  it('works from the aws CLI', async () => {
    const env = t.awsEnv();
    const created = await awsCli(t.endpoint, env, ['iot', 'create-keys-and-certificate', '--set-as-active']);
    expect(created.code, created.stderr).toBe(0);
    const out = created.json as { certificateId: string; certificateArn: string; keyPair: { PrivateKey: string } };
    expect(out.keyPair.PrivateKey).toContain('RSA PRIVATE KEY');
    await awsCli(t.endpoint, env, ['iot', 'create-thing', '--thing-name', 'cli-1']);
    const attach = await awsCli(t.endpoint, env, [
      'iot',
      'attach-thing-principal',
      '--thing-name',
      'cli-1',
      '--principal',
      out.certificateArn,
    ]);
    expect(attach.code, attach.stderr).toBe(0);
    const things = await awsCli(t.endpoint, env, ['iot', 'list-principal-things', '--principal', out.certificateArn]);
    expect(things.json).toEqual({ things: ['cli-1'] });
    const update = await awsCli(t.endpoint, env, [
      'iot',
      'update-certificate',
      '--certificate-id',
      out.certificateId,
      '--new-status',
      'INACTIVE',
    ]);
    expect(update.code, update.stderr).toBe(0);
    const del = await awsCli(t.endpoint, env, ['iot', 'delete-certificate', '--certificate-id', out.certificateId]);
    expect(del.code).not.toBe(0);
    expect(del.stderr).toContain('DeleteConflictException');
    const list = await awsCli(t.endpoint, env, ['iot', 'list-certificates']);
    expect(
      (list.json as { certificates: { certificateId: string }[] }).certificates.map((c) => c.certificateId),
    ).toContain(out.certificateId);
  });
});
