import type { Command } from 'commander';
import {
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  DetachThingPrincipalCommand,
  ListCertificatesCommand,
  ListPrincipalThingsCommand,
  RegisterCertificateCommand,
  UpdateCertificateCommand,
  type CertificateStatus,
} from '@aws-sdk/client-iot';
import { collect, int, readText } from './args.js';
import { apiCommand, type ApiOptions, type CliContext, type Session } from './context.js';
import { writeDeviceFile } from './device-files.js';
import { plain } from './output.js';

/** A certificate id or ARN; ids are turned into the ARN the principal APIs want. */
export async function certificateArn(s: Session, idOrArn: string): Promise<string> {
  if (idOrArn.startsWith('arn:')) return idOrArn;
  const r = await s.iot().send(new DescribeCertificateCommand({ certificateId: idOrArn }));
  return r.certificateDescription!.certificateArn!;
}

const idOf = (idOrArn: string): string => idOrArn.slice(idOrArn.lastIndexOf('/') + 1);

/** `fleetjobs certificates ...`: device X.509 certificates and their things (spec 2.2, 2.4). */
export function registerCertificatesCommands(program: Command, ctx: CliContext): void {
  const certs = program.command('certificates').description('device certificates');

  apiCommand<ApiOptions & { out?: string; inactive?: boolean }>(
    ctx,
    certs,
    'create',
    'create a key pair and a certificate signed by the server CA (ACTIVE unless --inactive)',
    (c) =>
      c
        .option('--out <dir>', 'write cert.pem and key.pem (mode 0600) there')
        .option('--inactive', 'leave the certificate INACTIVE'),
    async (s, _args, o) => {
      const r = await s.iot().send(new CreateKeysAndCertificateCommand({ setAsActive: !o.inactive }));
      if (o.out !== undefined) {
        writeDeviceFile(s.io.cwd, o.out, 'cert.pem', r.certificatePem!);
        writeDeviceFile(s.io.cwd, o.out, 'key.pem', r.keyPair!.PrivateKey!, 0o600);
      }
      // The private key is shown only when it was not written to a file.
      s.out.object({
        certificateId: r.certificateId,
        certificateArn: r.certificateArn,
        ...(o.out === undefined && { certificatePem: r.certificatePem, privateKey: r.keyPair?.PrivateKey }),
      });
    },
  );

  apiCommand<ApiOptions & { certificate?: string; caCertificate?: string; active?: boolean }>(
    ctx,
    certs,
    'register',
    'register a certificate made elsewhere (signed by a registered CA or by the server CA)',
    (c) =>
      c
        .requiredOption('--certificate <file>', 'the certificate PEM')
        .option('--ca-certificate <file>', 'the PEM of the CA that signed it')
        .option('--active', 'make it ACTIVE'),
    async (s, _args, o) => {
      const r = await s.iot().send(
        new RegisterCertificateCommand({
          certificatePem: readText(s.io.cwd, '--certificate', o.certificate!),
          caCertificatePem: o.caCertificate ? readText(s.io.cwd, '--ca-certificate', o.caCertificate) : undefined,
          status: o.active ? 'ACTIVE' : 'INACTIVE',
        }),
      );
      s.out.object({ certificateId: r.certificateId, certificateArn: r.certificateArn });
    },
  );

  apiCommand<ApiOptions & { maxItems?: number }>(
    ctx,
    certs,
    'list',
    'list certificates',
    (c) => c.option('--max-items <n>', 'stop after this many', int('--max-items', 1)),
    async (s, _args, o) => {
      const { items } = await collect(async (marker, size) => {
        const r = await s.iot().send(new ListCertificatesCommand({ marker, pageSize: size }));
        return { items: r.certificates, nextToken: r.nextMarker };
      }, o.maxItems);
      s.out.list('certificates', items, [
        { header: 'certificate', get: (c) => c.certificateId },
        { header: 'status', get: (c) => c.status },
        { header: 'created', get: (c) => c.creationDate },
      ]);
    },
  );

  apiCommand<ApiOptions & { pem?: boolean }>(
    ctx,
    certs,
    'describe <certificateId>',
    'show one certificate',
    (c) => c.option('--pem', 'include the PEM'),
    async (s, [id], o) => {
      const r = await s.iot().send(new DescribeCertificateCommand({ certificateId: idOf(id!) }));
      const { certificatePem, ...rest } = (plain(r.certificateDescription) ?? {}) as Record<string, unknown>;
      s.out.object({ ...rest, ...(o.pem && { certificatePem }) });
    },
  );

  for (const [name, status, what] of [
    ['activate', 'ACTIVE', 'let devices connect with it'],
    ['deactivate', 'INACTIVE', 'refuse its connections (connected devices are dropped)'],
    ['revoke', 'REVOKED', 'revoke it for good'],
  ] as const) {
    apiCommand(
      ctx,
      certs,
      `${name} <certificateId>`,
      `${what}`,
      (c) => c,
      async (s, [id]) => {
        await s
          .iot()
          .send(new UpdateCertificateCommand({ certificateId: idOf(id!), newStatus: status as CertificateStatus }));
        s.out.object({ certificateId: idOf(id!), status });
      },
    );
  }

  apiCommand<ApiOptions & { force?: boolean }>(
    ctx,
    certs,
    'delete <certificateId>',
    'delete a certificate (it must be INACTIVE or REVOKED, and detached)',
    (c) => c.option('--force', 'force delete'),
    async (s, [id], o) => {
      await s.iot().send(new DeleteCertificateCommand({ certificateId: idOf(id!), forceDelete: o.force }));
      s.out.object({ certificateId: idOf(id!), deleted: true });
    },
  );

  apiCommand(
    ctx,
    certs,
    'attach <certificate> <thing>',
    'attach a certificate (id or ARN) to a thing',
    (c) => c,
    async (s, [cert, thing]) => {
      const principal = await certificateArn(s, cert!);
      await s.iot().send(new AttachThingPrincipalCommand({ thingName: thing, principal }));
      s.out.object({ thingName: thing, principal, attached: true });
    },
  );

  apiCommand(
    ctx,
    certs,
    'detach <certificate> <thing>',
    'detach a certificate from a thing',
    (c) => c,
    async (s, [cert, thing]) => {
      const principal = await certificateArn(s, cert!);
      await s.iot().send(new DetachThingPrincipalCommand({ thingName: thing, principal }));
      s.out.object({ thingName: thing, principal, detached: true });
    },
  );

  apiCommand(
    ctx,
    certs,
    'things <certificate>',
    'the things a certificate is attached to',
    (c) => c,
    async (s, [cert]) => {
      const principal = await certificateArn(s, cert!);
      const { items } = await collect(async (token, size) => {
        const r = await s.iot().send(new ListPrincipalThingsCommand({ principal, nextToken: token, maxResults: size }));
        return { items: r.things, nextToken: r.nextToken };
      });
      s.out.list('things', items, [{ header: 'thing', get: (t) => t }]);
    },
  );
}
