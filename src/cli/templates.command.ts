import type { Command } from 'commander';
import {
  CreateJobTemplateCommand,
  DeleteJobTemplateCommand,
  DescribeJobCommand,
  DescribeJobTemplateCommand,
  DescribeManagedJobTemplateCommand,
  ListJobTemplatesCommand,
  ListManagedJobTemplatesCommand,
} from '@aws-sdk/client-iot';
import { collect, int, keyValues } from './args.js';
import { apiCommand, type ApiOptions, type CliContext } from './context.js';
import { UsageError } from './exit-codes.js';
import { documentMembers, tagsOf } from './job-create.js';
import { addJobConfigFlags, jobConfigsFrom, parseWindow, type JobConfigFlags } from './job-options.js';
import { plain } from './output.js';

interface TemplateOptions extends ApiOptions, JobConfigFlags {
  document?: string;
  documentSource?: string;
  fromJob?: string;
  tags?: Record<string, string>;
  maxItems?: number;
}

/** `fleetjobs templates ...`: job templates (spec 2.1, 2.3, 2.7), custom and AWS managed. */
export function registerTemplatesCommands(program: Command, ctx: CliContext): void {
  const templates = program.command('templates').description('job templates: reusable documents and configurations');

  apiCommand<TemplateOptions>(
    ctx,
    templates,
    'create <templateId>',
    'create a job template from a document or from an existing job',
    (c) =>
      addJobConfigFlags(
        c
          .option('--document <file>', 'job document: a JSON file, - for stdin, or inline JSON')
          .option('--document-source <url>', 'job document stored in S3: s3://bucket/key or https:// URL')
          .option('--from-job <jobId>', "copy an existing job's document and configuration")
          .option('--tags <k=v,...>', 'tags (repeatable)', keyValues('--tags')),
        { scheduling: false, waves: false },
      ).option(
        '--maintenance-window <cron@minutes>',
        'recurring window, e.g. "cron(0 2 ? * SAT *)@120" (repeatable)',
        (v: string, prev: string[] = []) => [...prev, v],
      ),
    async (s, [jobTemplateId], o) => {
      if (o.description === undefined) throw new UsageError('templates need --description');
      const doc = await documentMembers(s, o, o.fromJob === undefined);
      const jobArn = o.fromJob
        ? (await s.iot().send(new DescribeJobCommand({ jobId: o.fromJob }))).job?.jobArn
        : undefined;
      const configs = jobConfigsFrom({ ...o, maintenanceWindow: undefined });
      const r = await s.iot().send(
        new CreateJobTemplateCommand({
          jobTemplateId,
          ...doc,
          ...configs,
          description: o.description,
          jobArn,
          tags: tagsOf(o.tags),
          maintenanceWindows: o.maintenanceWindow?.map(parseWindow),
        }),
      );
      s.out.object({ jobTemplateId: r.jobTemplateId, jobTemplateArn: r.jobTemplateArn });
    },
  );

  apiCommand(
    ctx,
    templates,
    'describe <templateId>',
    'show a job template',
    (c) => c,
    async (s, [id]) => {
      const r = await s.iot().send(new DescribeJobTemplateCommand({ jobTemplateId: id }));
      s.out.object(plain(r) as Record<string, unknown>);
    },
  );

  apiCommand<TemplateOptions>(
    ctx,
    templates,
    'list',
    'list job templates',
    (c) => c.option('--max-items <n>', 'stop after this many', int('--max-items', 1)),
    async (s, _args, o) => {
      const { items, nextToken } = await collect(async (token, size) => {
        const r = await s.iot().send(new ListJobTemplatesCommand({ nextToken: token, maxResults: size }));
        return { items: r.jobTemplates, nextToken: r.nextToken };
      }, o.maxItems);
      s.out.list(
        'jobTemplates',
        items,
        [
          { header: 'template', get: (t) => t.jobTemplateId },
          { header: 'description', get: (t) => t.description },
          { header: 'created', get: (t) => t.createdAt },
        ],
        nextToken ? { nextToken } : {},
      );
    },
  );

  apiCommand(
    ctx,
    templates,
    'delete <templateId>',
    'delete a job template',
    (c) => c,
    async (s, [id]) => {
      await s.iot().send(new DeleteJobTemplateCommand({ jobTemplateId: id }));
      s.out.object({ jobTemplateId: id, deleted: true });
    },
  );

  apiCommand<ApiOptions & { name?: string }>(
    ctx,
    templates,
    'managed [name]',
    'AWS managed templates (AWS-Reboot, ...): list, or show one with its parameters',
    (c) => c.option('--template-version <v>', 'a given version'),
    async (s, [name], o) => {
      if (name !== undefined) {
        const version = (o as { templateVersion?: string }).templateVersion;
        const r = await s
          .iot()
          .send(new DescribeManagedJobTemplateCommand({ templateName: name, templateVersion: version }));
        s.out.object(plain(r) as Record<string, unknown>);
        return;
      }
      const { items } = await collect(async (token, size) => {
        const r = await s.iot().send(new ListManagedJobTemplatesCommand({ nextToken: token, maxResults: size }));
        return { items: r.managedJobTemplates, nextToken: r.nextToken };
      });
      s.out.list('managedJobTemplates', items, [
        { header: 'template', get: (t) => t.templateName },
        { header: 'version', get: (t) => t.templateVersion },
        { header: 'description', get: (t) => t.description },
      ]);
    },
  );
}
