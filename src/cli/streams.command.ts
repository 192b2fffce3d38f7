import type { Command } from 'commander';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  ListStreamsCommand,
  UpdateStreamCommand,
  type StreamFile,
} from '@aws-sdk/client-iot';
import { collect, int, keyValues } from './args.js';
import { UsageError } from './exit-codes.js';
import { apiCommand, type ApiOptions, type CliContext } from './context.js';

/**
 * `ID=s3://bucket/key[?versionId=V]`: one file of a stream (AWS StreamFile: fileId 0-255 and an
 * S3 location in our object store).
 */
export function parseStreamFile(value: string): StreamFile {
  const m = /^(\d{1,3})=s3:\/\/([^/]+)\/([^?]+)(?:\?versionId=(.+))?$/.exec(value);
  if (!m) throw new UsageError(`--file '${value}' must look like ID=s3://bucket/key[?versionId=V]`);
  const fileId = Number(m[1]);
  if (fileId > 255) throw new UsageError(`--file '${value}': the file id must be 0-255`);
  return { fileId, s3Location: { bucket: m[2]!, key: m[3]!, ...(m[4] && { version: m[4] }) } };
}

const files = (value: string, previous: StreamFile[] = []): StreamFile[] => [...previous, parseStreamFile(value)];

interface StreamOptions extends ApiOptions {
  file?: StreamFile[];
  roleArn?: string;
  description?: string;
  tags?: Record<string, string>;
}

/** `fleetjobs streams ...`: files devices fetch in blocks over MQTT (AWS IoT streams, issue 20). */
export function registerStreamsCommands(program: Command, ctx: CliContext): void {
  const streams = program
    .command('streams')
    .description('streams: files devices fetch in blocks over MQTT ($aws/things/<thing>/streams/...)');

  apiCommand<StreamOptions>(
    ctx,
    streams,
    'create <streamId>',
    'create a stream of files from the object store, read under a role trusted by iot.amazonaws.com',
    (c) =>
      c
        .requiredOption('--file <ID=s3://bucket/key[?versionId=V]>', 'a file of the stream (repeatable)', files)
        .requiredOption('--role-arn <arn>', 'role allowed s3:GetObject on the files (see `fleetjobs roles create`)')
        .option('--description <text>', 'description')
        .option('--tags <k=v,...>', 'tags', keyValues('--tags')),
    async (s, [streamId], o) => {
      const r = await s.iot().send(
        new CreateStreamCommand({
          streamId,
          files: o.file,
          roleArn: o.roleArn,
          description: o.description,
          ...(o.tags && { tags: Object.entries(o.tags).map(([Key, Value]) => ({ Key, Value })) }),
        }),
      );
      s.out.object({
        streamId: r.streamId,
        streamArn: r.streamArn,
        streamVersion: r.streamVersion,
        description: r.description,
      });
    },
  );

  apiCommand(
    ctx,
    streams,
    'describe <streamId>',
    'show a stream: version, role and files',
    (c) => c,
    async (s, [streamId]) => {
      const r = await s.iot().send(new DescribeStreamCommand({ streamId }));
      s.out.object({ ...r.streamInfo });
    },
  );

  apiCommand<ApiOptions & { maxItems?: number; ascending?: boolean }>(
    ctx,
    streams,
    'list',
    'list streams, newest first',
    (c) =>
      c.option('--max-items <n>', 'stop after this many', int('--max-items', 1)).option('--ascending', 'oldest first'),
    async (s, _args, o) => {
      const { items, nextToken } = await collect(async (token, size) => {
        const r = await s
          .iot()
          .send(new ListStreamsCommand({ nextToken: token, maxResults: size, ascendingOrder: o.ascending }));
        return { items: r.streams, nextToken: r.nextToken };
      }, o.maxItems);
      s.out.list(
        'streams',
        items,
        [
          { header: 'stream', get: (x) => x.streamId },
          { header: 'version', get: (x) => x.streamVersion },
          { header: 'description', get: (x) => x.description },
        ],
        nextToken ? { nextToken } : {},
      );
    },
  );

  apiCommand<StreamOptions>(
    ctx,
    streams,
    'update <streamId>',
    'replace the files, role or description of a stream (its version goes up by one)',
    (c) =>
      c
        .option('--file <ID=s3://bucket/key[?versionId=V]>', 'the new files (repeatable; all of them)', files)
        .option('--role-arn <arn>', 'a new role')
        .option('--description <text>', 'a new description'),
    async (s, [streamId], o) => {
      if (!o.file && !o.roleArn && o.description === undefined) {
        throw new UsageError('give --file, --role-arn or --description');
      }
      const r = await s
        .iot()
        .send(new UpdateStreamCommand({ streamId, files: o.file, roleArn: o.roleArn, description: o.description }));
      s.out.object({
        streamId: r.streamId,
        streamArn: r.streamArn,
        streamVersion: r.streamVersion,
        description: r.description,
      });
    },
  );

  apiCommand(
    ctx,
    streams,
    'delete <streamId>',
    'delete a stream (refused while an OTA update uses it)',
    (c) => c,
    async (s, [streamId]) => {
      await s.iot().send(new DeleteStreamCommand({ streamId }));
      s.out.object({ streamId, deleted: true });
    },
  );
}
