import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import {
  CreateOTAUpdateCommand,
  DeleteOTAUpdateCommand,
  GetOTAUpdateCommand,
  ListOTAUpdatesCommand,
  type CodeSigning,
  type CreateOTAUpdateCommandInput,
  type OTAUpdateInfo,
  type Protocol,
} from '@aws-sdk/client-iot';
import { CreateBucketCommand, GetBucketVersioningCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { OTA_PROTOCOLS, OTA_UPDATE_STATUSES } from '../ota/ota.schemas.js';
import { collect, int, keyValues, num, oneOf } from './args.js';
import { apiCommand, type ApiOptions, type CliContext, type Session } from './context.js';
import { CliError, UsageError } from './exit-codes.js';
import { upload } from './files.command.js';
import { resolveTargets } from './job-create.js';
import { plain } from './output.js';
import { watch as watchJob, type WatchOptions } from './watch.command.js';

/** Where `ota create --file <local path>` uploads when no --bucket is given (made versioned if missing). */
export const DEFAULT_OTA_BUCKET = 'fleetjobs-ota';

interface CreateOptions extends ApiOptions {
  file: string;
  fileName?: string;
  fileType?: number;
  bucket?: string;
  signWith?: string;
  signerJob?: string;
  signature?: string;
  signatureAlgorithm?: string;
  hashAlgorithm?: string;
  certName?: string;
  protocols?: string;
  role: string;
  targets?: string[];
  thing?: string[];
  group?: string[];
  targetSelection?: 'SNAPSHOT' | 'CONTINUOUS';
  description?: string;
  presignExpiry?: number;
  maxPerMinute?: number;
  timeoutMinutes?: number;
  tags?: Record<string, string>;
}

const collectRepeat = (v: string, p: string[] = []): string[] => [...p, v];
const list = (v: string, p: string[] = []): string[] => [...p, ...v.split(',').filter((x) => x !== '')];

/** `s3://bucket/key[?versionId=v]` */
function s3FileOf(value: string): { bucket: string; key: string; version?: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/([^?]+)(?:\?versionId=(.+))?$/.exec(value);
  if (!m) return undefined;
  return { bucket: m[1]!, key: m[2]!, ...(m[3] !== undefined && { version: decodeURIComponent(m[3]) }) };
}

function protocolsOf(value: string | undefined): Protocol[] | undefined {
  if (value === undefined) return undefined;
  const out = value.split(',').map((p) => p.trim().toUpperCase());
  for (const p of out) {
    if (!(OTA_PROTOCOLS as readonly string[]).includes(p)) {
      throw new UsageError(`--protocols '${value}': each must be one of ${OTA_PROTOCOLS.join(', ')}`);
    }
  }
  return out as Protocol[];
}

/** A local file goes to a versioned bucket first (code signing signs one object version, spec 6.6). */
async function uploadLocal(s: Session, path: string, bucket: string) {
  const s3 = s.s3();
  const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket })).catch((err: Error) => {
    if (err.name !== 'NoSuchBucket') throw err;
    return undefined;
  });
  if (versioning === undefined) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  if (versioning?.Status !== 'Enabled') {
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  }
  const r = await upload(s, path, bucket, basename(path), {});
  return { bucket, key: r.key, ...(r.versionId !== undefined && { version: r.versionId }) };
}

function codeSigningOf(s: Session, o: CreateOptions): CodeSigning | undefined {
  const chosen = [o.signWith, o.signerJob, o.signature].filter((x) => x !== undefined);
  if (chosen.length > 1) throw new UsageError('give one of --sign-with, --signer-job, --signature');
  if (o.signWith !== undefined) return { startSigningJobParameter: { signingProfileName: o.signWith } };
  if (o.signerJob !== undefined) return { awsSignerJobId: o.signerJob };
  if (o.signature === undefined) return undefined;
  const path = resolve(s.io.cwd, o.signature);
  // A file holds the raw (DER) signature; anything else is taken as base64 text.
  const sig = existsSync(path) ? readFileSync(path) : Buffer.from(o.signature, 'base64');
  return {
    customCodeSigning: {
      signature: { inlineDocument: sig },
      hashAlgorithm: o.hashAlgorithm ?? 'SHA256',
      signatureAlgorithm: o.signatureAlgorithm ?? 'ECDSA',
      ...(o.certName !== undefined && { certificateChain: { certificateName: o.certName } }),
    },
  };
}

async function create(s: Session, otaUpdateId: string, o: CreateOptions): Promise<void> {
  let location = s3FileOf(o.file);
  if (!location) {
    const path = resolve(s.io.cwd, o.file);
    if (!existsSync(path) || !statSync(path).isFile()) {
      throw new UsageError(`--file '${o.file}' is neither s3://bucket/key nor a file`);
    }
    location = await uploadLocal(s, path, o.bucket ?? DEFAULT_OTA_BUCKET);
  }
  const targets = await resolveTargets(s, o);
  if (targets.length === 0) throw new UsageError('name the devices: --thing NAME, --group NAME or --targets ARN');
  const input: CreateOTAUpdateCommandInput = {
    otaUpdateId,
    targets,
    protocols: protocolsOf(o.protocols),
    targetSelection: o.targetSelection,
    description: o.description,
    files: [
      {
        fileName: o.fileName ?? basename(location.key),
        fileType: o.fileType,
        fileLocation: { s3Location: location },
        codeSigning: codeSigningOf(s, o),
      },
    ],
    roleArn: o.role,
    ...(o.presignExpiry !== undefined && { awsJobPresignedUrlConfig: { expiresInSec: o.presignExpiry } }),
    ...(o.maxPerMinute !== undefined && { awsJobExecutionsRolloutConfig: { maximumPerMinute: o.maxPerMinute } }),
    ...(o.timeoutMinutes !== undefined && { awsJobTimeoutConfig: { inProgressTimeoutInMinutes: o.timeoutMinutes } }),
    ...(o.tags && { tags: Object.entries(o.tags).map(([Key, Value]) => ({ Key, Value })) }),
  };
  const r = await s.iot().send(new CreateOTAUpdateCommand(input));
  s.out.object({ ...(plain(r) as Record<string, unknown>), file: `s3://${location.bucket}/${location.key}` });
  if (!s.out.json) s.out.note(`follow it with: fleetjobs ota watch ${otaUpdateId}`);
}

const BUILDING = ['CREATE_PENDING', 'CREATE_IN_PROGRESS'];

/**
 * `fleetjobs ota watch ID`: the update's status until CREATE_COMPLETE (a line per change), then
 * its job's progress as `jobs watch` shows it. CREATE_FAILED ends it with the reason (exit 8).
 */
async function watch(s: Session, otaUpdateId: string, o: WatchOptions & { created?: boolean }): Promise<void> {
  const clock = s.io.clock;
  const signal = s.io.interrupts();
  const started = clock.now().getTime();
  const deadline = o.timeout !== undefined ? started + o.timeout * 1000 : Infinity;
  const intervalMs = (o.interval ?? 1) * 1000;
  let last: string | undefined;
  let info: OTAUpdateInfo;
  for (;;) {
    info = (await s.iot().send(new GetOTAUpdateCommand({ otaUpdateId }))).otaUpdateInfo!;
    const status = info.otaUpdateStatus!;
    if (status !== last) {
      last = status;
      const at = new Date(clock.now().getTime()).toISOString();
      if (s.out.json) s.out.write(JSON.stringify({ time: at, otaUpdateId, otaUpdateStatus: status }));
      else s.out.write(`${at} ota ${otaUpdateId} ${status}${info.awsIotJobId ? ` job=${info.awsIotJobId}` : ''}`);
    }
    if (!BUILDING.includes(status) || signal.aborted || clock.now().getTime() >= deadline) break;
    try {
      await sleep(Math.min(intervalMs, Math.max(0, deadline - clock.now().getTime())), undefined, { signal });
    } catch {
      // Ctrl-C: stop below.
    }
    if (signal.aborted) break;
  }
  if (signal.aborted) throw new CliError('interrupted', `stopped watching OTA update ${otaUpdateId} (${last})`);
  if (info.otaUpdateStatus === 'CREATE_FAILED') {
    const e = info.errorInfo;
    throw new CliError(
      'jobNotSucceeded',
      `OTA update ${otaUpdateId} CREATE_FAILED: ${e?.code ?? ''} ${e?.message ?? ''}`.trim(),
    );
  }
  if (info.otaUpdateStatus !== 'CREATE_COMPLETE' || !info.awsIotJobId) {
    throw new CliError('jobNotSucceeded', `timed out watching; OTA update ${otaUpdateId} is ${info.otaUpdateStatus}`);
  }
  if (o.created) return;
  const left = deadline === Infinity ? undefined : Math.max(0.1, (deadline - clock.now().getTime()) / 1000);
  await watchJob(s, info.awsIotJobId, { ...o, ...(left !== undefined && { timeout: left }) });
}

/** `fleetjobs ota ...`: FreeRTOS OTA updates (AWS IoT CreateOTAUpdate & co.). */
export function registerOtaCommands(program: Command, ctx: CliContext): void {
  const ota = program.command('ota').description('OTA updates for microcontrollers (FreeRTOS OTA: signed, streamed)');

  apiCommand<CreateOptions>(
    ctx,
    ota,
    'create <otaUpdateId>',
    'send a firmware file to devices as a FreeRTOS OTA update (job AFR_OTA-<id>)',
    (c) =>
      c
        .requiredOption(
          '--file <path|s3url>',
          'the image: a local file (uploaded first) or s3://bucket/key[?versionId=v]',
        )
        .requiredOption('--role <arn>', 'IAM role the service uses to read the file (trusted by iot.amazonaws.com)')
        .option(
          '--bucket <name>',
          `bucket a local --file is uploaded to (default ${DEFAULT_OTA_BUCKET}, made versioned)`,
        )
        .option('--file-name <path>', 'where the device stores it (filepath; default the file name)')
        .option('--file-type <n>', 'fileType for the device, 0-255', int('--file-type', 0, 255))
        .option('--sign-with <profile>', 'sign it with this signing profile (see `fleetjobs signing`)')
        .option('--signer-job <id>', 'use the signature of this signing job')
        .option('--signature <file|base64>', 'your own signature (DER file, or base64)')
        .option('--signature-algorithm <a>', 'with --signature (default ECDSA)')
        .option('--hash-algorithm <h>', 'with --signature (default SHA256)')
        .option('--cert-name <path>', 'with --signature: the certificate path on the device (certfile)')
        .option('--protocols <MQTT,HTTP>', 'how devices download it (default MQTT)')
        .option('--targets <arn,...>', 'thing or thing-group ARNs (repeatable)', list)
        .option('--thing <name>', 'a target thing by name (repeatable)', collectRepeat)
        .option('--group <name>', 'a target thing group by name (repeatable)', collectRepeat)
        .option(
          '--target-selection <s>',
          'SNAPSHOT|CONTINUOUS',
          oneOf('--target-selection', ['SNAPSHOT', 'CONTINUOUS']),
        )
        .option('--description <text>', 'description')
        .option(
          '--presign-expiry <seconds>',
          'HTTP download URL lifetime (60-3600, default 1800)',
          int('--presign-expiry', 60, 3600),
        )
        .option('--max-per-minute <n>', 'rollout rate', int('--max-per-minute', 1, 1000))
        .option('--timeout-minutes <n>', 'in-progress timeout per device', int('--timeout-minutes', 1, 10080))
        .option('--tags <k=v,...>', 'tags', keyValues('--tags')),
    (s, [id], o) => create(s, id!, o),
  );

  apiCommand<WatchOptions & { created?: boolean }>(
    ctx,
    ota,
    'watch <otaUpdateId>',
    'follow an OTA update: its status until CREATE_COMPLETE, then its job live (as `jobs watch`)',
    (c) =>
      c
        .option('--interval <seconds>', 'how often to poll (default 1)', num('--interval', 0.1, 3600))
        .option('--timeout <seconds>', 'stop watching after this long (exit 8 if not done)', num('--timeout', 0.1, 1e9))
        .option('--created', 'stop once the update is CREATE_COMPLETE (do not follow its job)'),
    (s, [id], o) => watch(s, id!, o),
  );

  apiCommand(
    ctx,
    ota,
    'describe <otaUpdateId>',
    'show an OTA update (GetOTAUpdate)',
    (c) => c,
    async (s, [id]) => {
      const r = await s.iot().send(new GetOTAUpdateCommand({ otaUpdateId: id }));
      s.out.object(plain(r.otaUpdateInfo) as Record<string, unknown>);
    },
  );

  apiCommand<ApiOptions & { status?: string; maxItems?: number }>(
    ctx,
    ota,
    'list',
    'list OTA updates',
    (c) =>
      c
        .option('--status <s>', OTA_UPDATE_STATUSES.join('|'), oneOf('--status', OTA_UPDATE_STATUSES))
        .option('--max-items <n>', 'stop after this many', int('--max-items', 1)),
    async (s, _args, o) => {
      const { items, nextToken } = await collect(async (token, pageSize) => {
        const r = await s.iot().send(
          new ListOTAUpdatesCommand({
            nextToken: token,
            maxResults: Math.min(250, pageSize),
            otaUpdateStatus: o.status as never,
          }),
        );
        return { items: r.otaUpdates, nextToken: r.nextToken };
      }, o.maxItems);
      s.out.list(
        'otaUpdates',
        items,
        [
          { header: 'ota update', get: (u) => u.otaUpdateId },
          { header: 'created', get: (u) => u.creationDate },
        ],
        nextToken ? { nextToken } : {},
      );
    },
  );

  apiCommand<ApiOptions & { deleteStream?: boolean; force?: boolean }>(
    ctx,
    ota,
    'delete <otaUpdateId>',
    'delete an OTA update (and with --force its job even while devices update)',
    (c) =>
      c
        .option('--delete-stream', 'also delete the stream the update made')
        .option('--force', 'delete the job even if it is still IN_PROGRESS'),
    async (s, [id], o) => {
      await s
        .iot()
        .send(
          new DeleteOTAUpdateCommand({ otaUpdateId: id, deleteStream: o.deleteStream, forceDeleteAWSJob: o.force }),
        );
      s.out.note(`deleted OTA update ${id}`);
    },
  );
}
