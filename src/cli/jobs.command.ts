import type { Command } from 'commander';
import {
  AssociateTargetsWithJobCommand,
  CancelJobCommand,
  CreateJobCommand,
  DeleteJobCommand,
  DescribeJobCommand,
  GetJobDocumentCommand,
  ListJobsCommand,
  UpdateJobCommand,
  type CreateJobCommandInput,
  type JobSummary,
} from '@aws-sdk/client-iot';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { collect, int, keyValues, list, oneOf } from './args.js';
import { prepareSigning } from './code-sign.js';
import { apiCommand, type ApiOptions, type CliContext, type Session } from './context.js';
import {
  configFile,
  documentMembers,
  resolveTargets,
  tagsOf,
  targetSelection,
  type DocumentFlags,
  type TargetFlags,
} from './job-create.js';
import { addJobConfigFlags, jobConfigsFrom, TARGET_SELECTIONS, type JobConfigFlags } from './job-options.js';
import { parseS3ObjectUrl } from './placeholders.js';
import { captureJson, withBodyMembers } from './sdk-extensions.js';
import { UsageError } from './exit-codes.js';
import { plain, renderFields } from './output.js';

interface CreateOptions extends ApiOptions, JobConfigFlags, TargetFlags, DocumentFlags {
  targetSelection?: string;
  namespace?: string;
  tags?: Record<string, string>;
  signWith?: string;
  config?: string;
}

const JOB_STATUSES = ['IN_PROGRESS', 'CANCELED', 'COMPLETED', 'DELETION_IN_PROGRESS', 'SCHEDULED'] as const;

function addTargetFlags(c: Command): Command {
  return c
    .option('--targets <arn,...>', 'thing or thing-group ARNs (repeatable)', list)
    .option('--thing <name>', 'a target thing by name (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--group <name>', 'a target thing group by name (repeatable)', (v: string, p: string[] = []) => [...p, v]);
}

/** `fleetjobs jobs ...`: the jobs control plane (spec 2.1, 2.3, 2.7). */
export function registerJobsCommands(program: Command, ctx: CliContext): Command {
  const jobs = program.command('jobs').description('jobs: a document for a set of things, and its rollout');

  apiCommand<CreateOptions>(
    ctx,
    jobs,
    'create <jobId>',
    'create a job',
    (c) =>
      addJobConfigFlags(
        addTargetFlags(c)
          .option('--document <file>', 'job document: a JSON file, - for stdin, or inline JSON')
          .option('--document-source <url>', 'job document stored in S3: s3://bucket/key or https:// URL')
          .option('--template <id|arn>', 'job template (or AWS managed template ARN)')
          .option(
            '--document-parameters <k=v,...>',
            'parameters of a managed template',
            keyValues('--document-parameters'),
          )
          .option('--target-selection <s>', TARGET_SELECTIONS.join('|') + ' (default SNAPSHOT)')
          .option('--namespace <id>', 'namespace id (namespaced MQTT topics)')
          .option('--tags <k=v,...>', 'tags (repeatable)', keyValues('--tags'))
          .option('--sign-with <profile>', 'code-sign the files of the document with this signing profile first')
          .option('--config <file>', 'a whole CreateJob request as JSON; flags override its members'),
      ),
    async (s, [jobId], o) => {
      const base = configFile(s.io.cwd, o.config) as Partial<CreateJobCommandInput> & { stagedRollout?: unknown };
      const targets = await resolveTargets(s, o);
      const doc = await documentMembers(s, o, base.document === undefined && base.documentSource === undefined);
      const { stagedRollout, ...configs } = { stagedRollout: base.stagedRollout, ...jobConfigsFrom(o) };
      const input: CreateJobCommandInput = {
        ...base,
        ...doc,
        ...configs,
        jobId: jobId!,
        targets: targets.length > 0 ? targets : base.targets!,
        targetSelection: targetSelection(o.targetSelection) ?? base.targetSelection,
        namespaceId: o.namespace ?? base.namespaceId,
        tags: tagsOf(o.tags) ?? base.tags,
      };
      if (!input.targets?.length) throw new UsageError('give targets: --thing, --group or --targets');
      const codeSigning = o.signWith !== undefined ? await applySigning(s, o.signWith, input) : undefined;
      const r = await s.iot().send(withBodyMembers(new CreateJobCommand(input), { stagedRollout, codeSigning }));
      s.out.object({ jobId: r.jobId, jobArn: r.jobArn, description: r.description });
    },
  );

  apiCommand<ApiOptions & { document?: boolean }>(
    ctx,
    jobs,
    'describe <jobId>',
    'show a job, its configuration and its progress',
    (c) => c.option('--document', 'include the job document'),
    async (s, [jobId], o) => {
      const job = await describeJob(s, jobId!);
      const out: Record<string, unknown> = { ...job };
      if (o.document) {
        const d = await s.iot().send(new GetJobDocumentCommand({ jobId }));
        out.document = d.document;
      }
      s.out.result(out, () => renderJob(out));
    },
  );

  apiCommand<
    ApiOptions & { status?: string; targetSelection?: string; group?: string; namespace?: string; maxItems?: number }
  >(
    ctx,
    jobs,
    'list',
    'list jobs',
    (c) =>
      c
        .option('--status <status>', JOB_STATUSES.join('|'), oneOf('--status', JOB_STATUSES))
        .option('--target-selection <s>', TARGET_SELECTIONS.join('|'), oneOf('--target-selection', TARGET_SELECTIONS))
        .option('--group <name>', 'only jobs that target this thing group')
        .option('--namespace <id>', 'only jobs of this namespace')
        .option('--max-items <n>', 'stop after this many', int('--max-items', 1)),
    async (s, _args, o) => {
      const { items, nextToken } = await collect<JobSummary>(async (token, size) => {
        const r = await s.iot().send(
          new ListJobsCommand({
            nextToken: token,
            maxResults: size,
            status: o.status as JobSummary['status'],
            targetSelection: o.targetSelection as JobSummary['targetSelection'],
            thingGroupName: o.group,
            namespaceId: o.namespace,
          }),
        );
        return { items: r.jobs, nextToken: r.nextToken };
      }, o.maxItems);
      s.out.list(
        'jobs',
        items,
        [
          { header: 'job', get: (j) => j.jobId },
          { header: 'status', get: (j) => j.status },
          { header: 'selection', get: (j) => j.targetSelection },
          { header: 'created', get: (j) => j.createdAt },
          { header: 'completed', get: (j) => j.completedAt },
        ],
        nextToken ? { nextToken } : {},
      );
    },
  );

  apiCommand<ApiOptions & { force?: boolean; reasonCode?: string; comment?: string }>(
    ctx,
    jobs,
    'cancel <jobId>',
    'cancel a job: QUEUED executions are canceled; IN_PROGRESS ones too with --force',
    (c) =>
      c
        .option('--force', 'also cancel executions that are IN_PROGRESS')
        .option('--reason-code <code>', 'reason code (A-Z, 0-9, _)')
        .option('--comment <text>', 'comment'),
    async (s, [jobId], o) => {
      const r = await s
        .iot()
        .send(new CancelJobCommand({ jobId, force: o.force, reasonCode: o.reasonCode, comment: o.comment }));
      s.out.object({ jobId: r.jobId, jobArn: r.jobArn, canceled: true });
    },
  );

  apiCommand<ApiOptions & { force?: boolean; namespace?: string }>(
    ctx,
    jobs,
    'delete <jobId>',
    'delete a job (COMPLETED or CANCELED; any with --force)',
    (c) =>
      c.option('--force', 'delete even if executions are still pending').option('--namespace <id>', 'namespace id'),
    async (s, [jobId], o) => {
      await s.iot().send(new DeleteJobCommand({ jobId, force: o.force, namespaceId: o.namespace }));
      s.out.object({ jobId, deleted: true });
    },
  );

  apiCommand<ApiOptions & { beforeSubstitution?: boolean }>(
    ctx,
    jobs,
    'document <jobId>',
    'print the job document',
    (c) => c.option('--before-substitution', 'as given, before template parameters were filled in'),
    async (s, [jobId], o) => {
      const r = await s.iot().send(new GetJobDocumentCommand({ jobId, beforeSubstitution: o.beforeSubstitution }));
      if (s.out.json) s.out.write(JSON.stringify({ document: r.document }, null, 2));
      else s.out.write(prettyJson(r.document ?? ''));
    },
  );

  apiCommand<ApiOptions & JobConfigFlags & { namespace?: string }>(
    ctx,
    jobs,
    'update <jobId>',
    'change the description, rollout, abort, timeout, retry or presign configuration',
    (c) => addJobConfigFlags(c, { scheduling: false }).option('--namespace <id>', 'namespace id'),
    async (s, [jobId], o) => {
      const { stagedRollout, ...configs } = jobConfigsFrom(o);
      await s
        .iot()
        .send(
          withBodyMembers(new UpdateJobCommand({ jobId, namespaceId: o.namespace, ...configs }), { stagedRollout }),
        );
      s.out.object({ ...(await describeJob(s, jobId!)) });
    },
  );

  for (const [verb, action, what] of [
    ['pause', 'PAUSE', 'hold every further release of a rate-limited, windowed or staged rollout'],
    ['resume', 'RESUME', 'go on with a paused rollout (after a failed staged gate: open the next wave)'],
  ] as const) {
    apiCommand<ApiOptions & { namespace?: string }>(
      ctx,
      jobs,
      `${verb} <jobId>`,
      what,
      (c) => c.option('--namespace <id>', 'namespace id'),
      async (s, [jobId], o) => {
        // fleetjobs extension of UpdateJob (README "Beyond AWS: staged rollouts").
        await s
          .iot()
          .send(withBodyMembers(new UpdateJobCommand({ jobId, namespaceId: o.namespace }), { rolloutAction: action }));
        s.out.object({ ...(await describeJob(s, jobId!)) });
      },
    );
  }

  apiCommand<ApiOptions & TargetFlags & { comment?: string; namespace?: string }>(
    ctx,
    jobs,
    'associate-targets <jobId>',
    'add thing groups (or things) to a CONTINUOUS job',
    (c) => addTargetFlags(c).option('--comment <text>', 'comment').option('--namespace <id>', 'namespace id'),
    async (s, [jobId], o) => {
      const targets = await resolveTargets(s, o);
      const r = await s
        .iot()
        .send(new AssociateTargetsWithJobCommand({ jobId, targets, comment: o.comment, namespaceId: o.namespace }));
      s.out.object({ jobId: r.jobId, jobArn: r.jobArn, targets });
    },
  );
  return jobs;
}

/** DescribeJob, with our extension members (e.g. stagedRollout) that the SDK model drops. */
export async function describeJob(s: Session, jobId: string): Promise<Record<string, unknown>> {
  const cap = captureJson(new DescribeJobCommand({ jobId }));
  const r = await s.iot().send(cap.command);
  const job = plain(r.job) as Record<string, unknown>;
  const raw = (cap.json()?.job ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(raw)) if (!(k in job)) job[k] = v;
  if (r.documentSource) job.documentSource = r.documentSource;
  return job;
}

function renderJob(job: Record<string, unknown>): string {
  const { jobProcessDetails, document, ...rest } = job;
  const counts = Object.entries((jobProcessDetails ?? {}) as Record<string, unknown>)
    .filter(([k]) => k.startsWith('numberOf'))
    .map(([k, v]) => `${k.replace(/^numberOf|Things$/g, '')}=${String(v)}`)
    .join(' ');
  const text = renderFields({ ...rest, executions: counts });
  return document === undefined ? text : `${text}\ndocument:\n${prettyJson(String(document))}`;
}

const prettyJson = (text: string): string => {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
};

/** `--sign-with`: an S3-held document is read here and sent inline, prepared for signing. */
async function applySigning(
  s: Session,
  profile: string,
  input: CreateJobCommandInput,
): Promise<{ profileName: string }> {
  if (input.jobTemplateArn !== undefined && input.document === undefined && input.documentSource === undefined) {
    throw new UsageError('--sign-with needs --document or --document-source');
  }
  let document = input.document;
  if (document === undefined && input.documentSource !== undefined) {
    const ref = parseS3ObjectUrl(input.documentSource);
    if (!ref) throw new UsageError(`cannot read ${input.documentSource}`);
    const obj = await s.s3().send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.version }));
    document = (await obj.Body?.transformToString('utf8')) ?? '';
  }
  const prepared = await prepareSigning(s, profile, document!);
  input.document = prepared.document;
  delete input.documentSource;
  return prepared.codeSigning;
}
