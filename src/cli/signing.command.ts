import { randomUUID } from 'node:crypto';
import { basename, dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import {
  CancelSigningProfileCommand,
  DescribeSigningJobCommand,
  GetSigningProfileCommand,
  ListSigningJobsCommand,
  ListSigningPlatformsCommand,
  ListSigningProfilesCommand,
  PutSigningProfileCommand,
  StartSigningJobCommand,
} from '@aws-sdk/client-signer';
import { writeFileWithMode } from '../agent/device-dir.js';
import { getCertificatePem } from './acm.js';
import { collect, keyValues, parseS3Url } from './args.js';
import { apiCommand, type ApiOptions, type CliContext, type Session } from './context.js';
import { CliError } from './exit-codes.js';
import { plain } from './output.js';

/** `fleetjobs signing ...`: code-signing platforms, profiles and signing jobs (AWS Signer, spec 6.6). */
async function waitForJob(s: Session, jobId: string) {
  const deadline = s.io.clock.now().getTime() + 5 * 60_000;
  for (;;) {
    const j = await s.signer().send(new DescribeSigningJobCommand({ jobId }));
    if (j.status === 'Succeeded' || j.status === 'Failed') return j;
    if (s.io.clock.now().getTime() > deadline) throw new CliError('service', `signing job ${jobId} did not finish`);
    await sleep(250);
  }
}

export function registerSigningCommands(program: Command, ctx: CliContext): void {
  const signing = program
    .command('signing')
    .description('code signing (AWS Signer API): platforms, profiles, signing jobs');

  apiCommand(
    ctx,
    signing,
    'platforms',
    'signing platforms',
    (c) => c,
    async (s) => {
      const r = await s.signer().send(new ListSigningPlatformsCommand({}));
      s.out.list('platforms', r.platforms ?? [], [
        { header: 'platform', get: (p) => p.platformId },
        { header: 'name', get: (p) => p.displayName },
        { header: 'hash', get: (p) => p.signingConfiguration?.hashAlgorithmOptions?.defaultValue },
        { header: 'encryption', get: (p) => p.signingConfiguration?.encryptionAlgorithmOptions?.defaultValue },
      ]);
    },
  );

  const profiles = signing.command('profiles').description('signing profiles');

  apiCommand<ApiOptions & { platform?: string; certificateArn?: string; params?: Record<string, string> }>(
    ctx,
    profiles,
    'create <name>',
    'create a signing profile (without --certificate-arn the server makes its key and certificate)',
    (c) =>
      c
        .option('--platform <id>', 'platform (default AWSIoTDeviceManagement-SHA256-ECDSA)')
        .option('--certificate-arn <arn>', 'signing certificate imported into ACM')
        .option('--params <k=v,...>', 'signing parameters, e.g. certname=...', keyValues('--params')),
    async (s, [name], o) => {
      const r = await s.signer().send(
        new PutSigningProfileCommand({
          profileName: name,
          platformId: o.platform ?? 'AWSIoTDeviceManagement-SHA256-ECDSA',
          ...(o.certificateArn && { signingMaterial: { certificateArn: o.certificateArn } }),
          signingParameters: o.params,
        }),
      );
      s.out.object({
        profileName: name,
        arn: r.arn,
        profileVersion: r.profileVersion,
        profileVersionArn: r.profileVersionArn,
      });
    },
  );

  apiCommand(
    ctx,
    profiles,
    'list',
    'list signing profiles',
    (c) => c,
    async (s) => {
      const { items } = await collect(async (token) => {
        const r = await s.signer().send(new ListSigningProfilesCommand({ nextToken: token }));
        return { items: r.profiles, nextToken: r.nextToken };
      });
      s.out.list('profiles', items, [
        { header: 'profile', get: (p) => p.profileName },
        { header: 'platform', get: (p) => p.platformId },
        { header: 'status', get: (p) => p.status },
        { header: 'version', get: (p) => p.profileVersion },
      ]);
    },
  );

  apiCommand(
    ctx,
    profiles,
    'describe <name>',
    'show a signing profile',
    (c) => c,
    async (s, [name]) => {
      const r = await s.signer().send(new GetSigningProfileCommand({ profileName: name }));
      s.out.object(plain(r) as Record<string, unknown>);
    },
  );

  apiCommand(
    ctx,
    profiles,
    'cancel <name>',
    'cancel a signing profile (no new signatures)',
    (c) => c,
    async (s, [name]) => {
      await s.signer().send(new CancelSigningProfileCommand({ profileName: name }));
      s.out.object({ profileName: name, status: 'Canceled' });
    },
  );

  apiCommand<ApiOptions & { out?: string }>(
    ctx,
    profiles,
    'certificate <name>',
    "the profile's signing certificate (PEM), which devices trust (agent --signer-cert)",
    (c) => c.option('--out <file>', 'write it to this file'),
    async (s, [name], o) => {
      const p = await s.signer().send(new GetSigningProfileCommand({ profileName: name }));
      const arn = p.signingMaterial?.certificateArn;
      if (!arn) throw new CliError('notFound', `signing profile ${name} names no certificate`);
      const pem = await getCertificatePem(s, arn);
      if (o.out !== undefined) {
        const path = resolve(s.io.cwd, o.out);
        writeFileWithMode(dirname(path), basename(path), pem);
        s.out.object({ profileName: name, certificateArn: arn, file: path });
      } else if (s.out.json)
        s.out.write(JSON.stringify({ profileName: name, certificateArn: arn, certificatePem: pem }, null, 2));
      else s.out.write(pem);
    },
  );

  apiCommand<ApiOptions & { signingProfile?: string; versionId?: string; prefix?: string; out?: string }>(
    ctx,
    signing,
    'sign <s3url>',
    'sign an object version with a profile and print the signature block (spec 6.4)',
    (c) =>
      c
        .requiredOption('--signing-profile <name>', 'signing profile')
        .option('--version-id <id>', 'object version (default: the current one)')
        .option('--prefix <prefix>', 'where the signed object goes in the bucket (default SignedImages/)')
        .option('--out <file>', 'also write the signature block to this file'),
    async (s, [url], o) => {
      const { bucket, key } = parseS3Url('s3url', url!);
      let version = o.versionId;
      if (version === undefined) {
        version = (await s.s3().send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).VersionId;
      }
      const started = await s.signer().send(
        new StartSigningJobCommand({
          profileName: o.signingProfile,
          clientRequestToken: randomUUID(),
          source: { s3: { bucketName: bucket, key, version } },
          destination: { s3: { bucketName: bucket, prefix: o.prefix ?? 'SignedImages/' } },
        }),
      );
      const job = await waitForJob(s, started.jobId!);
      if (job.status !== 'Succeeded')
        throw new CliError('service', `signing job ${started.jobId} failed: ${job.statusReason ?? ''}`);
      const signed = job.signedObject!.s3!;
      const obj = await s.s3().send(new GetObjectCommand({ Bucket: signed.bucketName, Key: signed.key }));
      const text = (await obj.Body!.transformToString('utf8')).trim();
      if (o.out !== undefined) {
        const path = resolve(s.io.cwd, o.out);
        writeFileWithMode(dirname(path), basename(path), `${text}\n`);
      }
      s.out.result(
        { jobId: started.jobId, signedObject: `s3://${signed.bucketName}/${signed.key}`, block: JSON.parse(text) },
        () => text,
      );
    },
  );

  const jobs = signing.command('jobs').description('signing jobs');
  apiCommand(
    ctx,
    jobs,
    'list',
    'list signing jobs',
    (c) => c,
    async (s) => {
      const { items } = await collect(async (token) => {
        const r = await s.signer().send(new ListSigningJobsCommand({ nextToken: token }));
        return { items: r.jobs, nextToken: r.nextToken };
      });
      s.out.list('jobs', items, [
        { header: 'job', get: (j) => j.jobId },
        { header: 'status', get: (j) => j.status },
        { header: 'profile', get: (j) => j.profileName },
        { header: 'source', get: (j) => (j.source?.s3 ? `s3://${j.source.s3.bucketName}/${j.source.s3.key}` : '') },
        { header: 'created', get: (j) => j.createdAt },
      ]);
    },
  );
  apiCommand(
    ctx,
    jobs,
    'describe <jobId>',
    'show a signing job',
    (c) => c,
    async (s, [jobId]) => {
      const r = await s.signer().send(new DescribeSigningJobCommand({ jobId }));
      s.out.object(plain(r) as Record<string, unknown>);
    },
  );
}
