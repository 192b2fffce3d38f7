import type { Command } from 'commander';
import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { collect, int, parseS3Url, readJson } from './args.js';
import { apiCommand, type ApiOptions, type CliContext, type Session } from './context.js';
import { UsageError } from './exit-codes.js';

/**
 * `fleetjobs roles ...`: IAM roles, above all the one a job names in presignedUrlConfig (spec 8):
 * trusted by iot.amazonaws.com with the confused-deputy conditions, allowed s3:GetObject.
 */
export const PRESIGN_POLICY_NAME = 'fleetjobs-presigned-downloads';

/**
 * What the role is assumed for (aws:SourceArn): jobs (presigned URLs), streams (MQTT file
 * delivery), OTA updates (CreateOTAUpdate makes a job and a stream under the update's role) or
 * any IoT resource.
 */
export const ROLE_SOURCES = {
  job: ['job/*'],
  stream: ['stream/*'],
  ota: ['job/*', 'stream/*', 'otaupdate/*'],
  any: ['*'],
} as const;
export type RoleSource = keyof typeof ROLE_SOURCES;

export function trustPolicy(service: string, account?: string, region?: string, source: RoleSource = 'job'): string {
  const statement: Record<string, unknown> = {
    Effect: 'Allow',
    Principal: { Service: service },
    Action: 'sts:AssumeRole',
  };
  // spec 8: aws:SourceAccount and aws:SourceArn (the job ARN) protect against a confused deputy.
  if (account) {
    const sourceArns = ROLE_SOURCES[source].map((r) => `arn:aws:iot:${region ?? '*'}:${account}:${r}`);
    statement.Condition = {
      StringEquals: { 'aws:SourceAccount': account },
      ArnLike: { 'aws:SourceArn': sourceArns.length === 1 ? sourceArns[0] : sourceArns },
    };
  }
  return JSON.stringify({ Version: '2012-10-17', Statement: [statement] });
}

export function getObjectPolicy(targets: { bucket: string; key: string }[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        // GetObjectVersion too: version-pinned URLs (spec 6.1 versionId) read a given version.
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: targets.map((t) => `arn:aws:s3:::${t.bucket}/${t.key}*`),
      },
    ],
  });
}

const accountOf = (roleArn: string): string | undefined => /^arn:[^:]+:iam::(\d{12}):/.exec(roleArn)?.[1];

async function describeRole(s: Session, name: string) {
  const r = await s.iam().send(new GetRoleCommand({ RoleName: name }));
  const inline = await s.iam().send(new ListRolePoliciesCommand({ RoleName: name }));
  const attached = await s.iam().send(new ListAttachedRolePoliciesCommand({ RoleName: name }));
  const role = r.Role!;
  return {
    roleName: role.RoleName,
    arn: role.Arn,
    createdAt: role.CreateDate,
    description: role.Description,
    trustPolicy: role.AssumeRolePolicyDocument
      ? JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument))
      : undefined,
    inlinePolicies: inline.PolicyNames ?? [],
    attachedPolicies: (attached.AttachedPolicies ?? []).map((p) => p.PolicyArn),
  };
}

export function registerRolesCommands(program: Command, ctx: CliContext): void {
  const roles = program
    .command('roles')
    .description('IAM roles (e.g. the role the service uses to presign download URLs)');

  apiCommand<
    ApiOptions & { service?: string; allowGet?: string[]; description?: string; conditions?: boolean; for?: RoleSource }
  >(
    ctx,
    roles,
    'create <name>',
    'create a role trusted by a service (default iot.amazonaws.com), with the confused-deputy conditions',
    (c) =>
      c
        .option('--service <principal>', 'service that may assume it (default iot.amazonaws.com)')
        .option(
          '--allow-get <s3url>',
          'allow s3:GetObject on s3://bucket[/prefix] (repeatable)',
          (v: string, p: string[] = []) => [...p, v],
        )
        .option('--description <text>', 'description')
        .option('--no-conditions', 'trust without aws:SourceAccount / aws:SourceArn conditions')
        .option(
          '--for <job|stream|ota|any>',
          'what the service assumes it for (aws:SourceArn): jobs (default), streams, OTA updates, or any IoT resource',
          (v: string): RoleSource => {
            if (!(v in ROLE_SOURCES))
              throw new UsageError(`--for '${v}' must be one of ${Object.keys(ROLE_SOURCES).join(', ')}`);
            return v as RoleSource;
          },
        ),
    async (s, [name], o) => {
      const service = o.service ?? 'iot.amazonaws.com';
      const targets = (o.allowGet ?? []).map((u) => parseS3Url('--allow-get', u, false));
      const r = await s.iam().send(
        new CreateRoleCommand({
          RoleName: name,
          AssumeRolePolicyDocument: trustPolicy(service),
          Description: o.description,
        }),
      );
      const account = accountOf(r.Role!.Arn!);
      // The account is known from the new role's ARN; the conditions name it.
      if (o.conditions !== false && account) {
        await s.iam().send(
          new UpdateAssumeRolePolicyCommand({
            RoleName: name,
            PolicyDocument: trustPolicy(service, account, s.conn.region, o.for),
          }),
        );
      }
      if (targets.length > 0) {
        await s.iam().send(
          new PutRolePolicyCommand({
            RoleName: name,
            PolicyName: PRESIGN_POLICY_NAME,
            PolicyDocument: getObjectPolicy(targets),
          }),
        );
      }
      s.out.object(await describeRole(s, name!));
    },
  );

  apiCommand(
    ctx,
    roles,
    'describe <name>',
    'show a role with its trust policy and policies',
    (c) => c,
    async (s, [name]) => {
      s.out.object(await describeRole(s, name!));
    },
  );

  apiCommand<ApiOptions & { maxItems?: number }>(
    ctx,
    roles,
    'list',
    'list roles',
    (c) => c.option('--max-items <n>', 'stop after this many', int('--max-items', 1)),
    async (s, _args, o) => {
      const { items } = await collect(async (marker, size) => {
        const r = await s.iam().send(new ListRolesCommand({ Marker: marker, MaxItems: size }));
        return { items: r.Roles, nextToken: r.IsTruncated ? r.Marker : undefined };
      }, o.maxItems);
      s.out.list('roles', items, [
        { header: 'role', get: (r) => r.RoleName },
        { header: 'arn', get: (r) => r.Arn },
        { header: 'created', get: (r) => r.CreateDate },
      ]);
    },
  );

  apiCommand<ApiOptions & { document?: string }>(
    ctx,
    roles,
    'put-policy <name> <policyName>',
    'set an inline policy of a role',
    (c) => c.requiredOption('--document <file|json>', 'the policy document'),
    async (s, [name, policyName], o) => {
      const doc = JSON.stringify(readJson(s.io.cwd, '--document', o.document!));
      await s.iam().send(new PutRolePolicyCommand({ RoleName: name, PolicyName: policyName, PolicyDocument: doc }));
      s.out.object(await describeRole(s, name!));
    },
  );

  apiCommand(
    ctx,
    roles,
    'delete <name>',
    'delete a role and its policies',
    (c) => c,
    async (s, [name]) => {
      const inline = await s.iam().send(new ListRolePoliciesCommand({ RoleName: name }));
      for (const p of inline.PolicyNames ?? [])
        await s.iam().send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: p }));
      const attached = await s.iam().send(new ListAttachedRolePoliciesCommand({ RoleName: name }));
      for (const p of attached.AttachedPolicies ?? []) {
        await s.iam().send(new DetachRolePolicyCommand({ RoleName: name, PolicyArn: p.PolicyArn }));
      }
      await s.iam().send(new DeleteRoleCommand({ RoleName: name }));
      s.out.object({ roleName: name, deleted: true });
    },
  );
}
