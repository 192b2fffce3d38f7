import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  DeletePolicyCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetPolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli } from '../helpers/aws-cli.js';
import { DIALECTS } from '../helpers/postgres.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';
import { rejection } from '../helpers/rejection.js';

const ACCOUNT = '000000000000';
const trust = (condition?: object): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'iot.amazonaws.com' },
        Action: 'sts:AssumeRole',
        ...(condition && { Condition: condition }),
      },
    ],
  });
const readPolicy = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::firmware/*' }],
});

describe.each(DIALECTS)('IAM with @aws-sdk/client-iam (%s)', (dialect) => {
  let t: TestServer;
  let iam: IAMClient;
  beforeAll(async () => {
    t = await startTestServer({ dialect });
    iam = new IAMClient({ endpoint: t.endpoint, region: TEST_REGION, credentials: t.credentials, maxAttempts: 1 });
  });
  afterAll(async () => {
    iam?.destroy();
    await t?.stop();
  });

  it('creates, reads and lists roles; documents come back URL-encoded as AWS sends them', async () => {
    const doc = trust({ StringEquals: { 'aws:SourceAccount': ACCOUNT } });
    const created = await iam.send(
      new CreateRoleCommand({
        RoleName: 'fw-download',
        AssumeRolePolicyDocument: doc,
        Description: 'firmware & more <ok>',
        Tags: [{ Key: 'team', Value: 'ota' }],
      }),
    );
    expect(created.Role).toMatchObject({
      RoleName: 'fw-download',
      Path: '/',
      Arn: `arn:aws:iam::${ACCOUNT}:role/fw-download`,
      Description: 'firmware & more <ok>',
      MaxSessionDuration: 3600,
      Tags: [{ Key: 'team', Value: 'ota' }],
    });
    expect(created.Role!.RoleId).toMatch(/^AROA[A-Z2-7]{17}$/);
    expect(created.Role!.CreateDate).toBeInstanceOf(Date);
    expect(decodeURIComponent(created.Role!.AssumeRolePolicyDocument!)).toBe(doc);

    const got = await iam.send(new GetRoleCommand({ RoleName: 'FW-DOWNLOAD' }));
    expect(got.Role!.RoleId).toBe(created.Role!.RoleId);

    await iam.send(new CreateRoleCommand({ RoleName: 'other', AssumeRolePolicyDocument: trust(), Path: '/ota/' }));
    const page1 = await iam.send(new ListRolesCommand({ MaxItems: 1 }));
    expect(page1.Roles!.map((r) => r.RoleName)).toEqual(['fw-download']);
    expect(page1.IsTruncated).toBe(true);
    const page2 = await iam.send(new ListRolesCommand({ MaxItems: 1, Marker: page1.Marker }));
    expect(page2.Roles!.map((r) => r.Arn)).toEqual([`arn:aws:iam::${ACCOUNT}:role/ota/other`]);
    expect(page2.IsTruncated).toBe(false);
    const byPath = await iam.send(new ListRolesCommand({ PathPrefix: '/ota/' }));
    expect(byPath.Roles!.map((r) => r.RoleName)).toEqual(['other']);
  });

  it('refuses duplicates, unknown roles, malformed and oversized policies with IAM error codes', async () => {
    expect(
      await rejection(iam.send(new CreateRoleCommand({ RoleName: 'fw-download', AssumeRolePolicyDocument: trust() }))),
    ).toMatchObject({ name: 'EntityAlreadyExistsException', status: 409 });
    expect(await rejection(iam.send(new GetRoleCommand({ RoleName: 'nope' })))).toMatchObject({
      name: 'NoSuchEntityException',
      status: 404,
      message: 'The role with name nope cannot be found.',
    });
    const noPrincipal = JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] });
    expect(
      await rejection(iam.send(new CreateRoleCommand({ RoleName: 'bad', AssumeRolePolicyDocument: noPrincipal }))),
    ).toMatchObject({ name: 'MalformedPolicyDocumentException', status: 400 });
    expect(
      await rejection(iam.send(new CreateRoleCommand({ RoleName: 'bad name!', AssumeRolePolicyDocument: trust() }))),
    ).toMatchObject({ name: 'ValidationError', status: 400 });
    const huge = trust({ StringEquals: { 'aws:SourceArn': 'x'.repeat(2100) } });
    expect(
      await rejection(iam.send(new CreateRoleCommand({ RoleName: 'huge', AssumeRolePolicyDocument: huge }))),
    ).toMatchObject({ name: 'LimitExceededException', status: 409 });
  });

  it('updates the trust policy', async () => {
    const doc = trust({ ArnLike: { 'aws:SourceArn': `arn:aws:iot:*:${ACCOUNT}:job/*` } });
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'fw-download', PolicyDocument: doc }));
    const got = await iam.send(new GetRoleCommand({ RoleName: 'fw-download' }));
    expect(decodeURIComponent(got.Role!.AssumeRolePolicyDocument!)).toBe(doc);
    expect(
      await rejection(iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'nope', PolicyDocument: doc }))),
    ).toMatchObject({ name: 'NoSuchEntityException' });
  });

  it('puts, gets, lists and deletes inline policies; a role with policies cannot be deleted', async () => {
    await iam.send(
      new PutRolePolicyCommand({ RoleName: 'fw-download', PolicyName: 'read', PolicyDocument: readPolicy }),
    );
    const got = await iam.send(new GetRolePolicyCommand({ RoleName: 'fw-download', PolicyName: 'read' }));
    expect(got.RoleName).toBe('fw-download');
    expect(decodeURIComponent(got.PolicyDocument!)).toBe(readPolicy);
    const listed = await iam.send(new ListRolePoliciesCommand({ RoleName: 'fw-download' }));
    expect(listed.PolicyNames).toEqual(['read']);
    expect(await rejection(iam.send(new DeleteRoleCommand({ RoleName: 'fw-download' })))).toMatchObject({
      name: 'DeleteConflictException',
      status: 409,
    });
    const withPrincipal = JSON.stringify({
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' }],
    });
    expect(
      await rejection(
        iam.send(new PutRolePolicyCommand({ RoleName: 'fw-download', PolicyName: 'p', PolicyDocument: withPrincipal })),
      ),
    ).toMatchObject({
      name: 'MalformedPolicyDocumentException',
      message: 'Policy document should not specify a principal.',
    });
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'fw-download', PolicyName: 'read' }));
    expect(
      await rejection(iam.send(new GetRolePolicyCommand({ RoleName: 'fw-download', PolicyName: 'read' }))),
    ).toMatchObject({ name: 'NoSuchEntityException' });
  });

  it('creates managed policies, attaches and detaches them; attached policies block deletion', async () => {
    const created = await iam.send(new CreatePolicyCommand({ PolicyName: 'fw-read', PolicyDocument: readPolicy }));
    const arn = created.Policy!.Arn!;
    expect(arn).toBe(`arn:aws:iam::${ACCOUNT}:policy/fw-read`);
    expect(created.Policy).toMatchObject({ DefaultVersionId: 'v1', AttachmentCount: 0, IsAttachable: true });
    expect(
      await rejection(iam.send(new CreatePolicyCommand({ PolicyName: 'fw-read', PolicyDocument: readPolicy }))),
    ).toMatchObject({ name: 'EntityAlreadyExistsException' });

    await iam.send(new AttachRolePolicyCommand({ RoleName: 'fw-download', PolicyArn: arn }));
    await iam.send(
      new AttachRolePolicyCommand({
        RoleName: 'fw-download',
        PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
      }),
    );
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'fw-download' }));
    expect(attached.AttachedPolicies).toEqual([
      { PolicyName: 'fw-read', PolicyArn: arn },
      { PolicyName: 'AmazonS3ReadOnlyAccess', PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' },
    ]);
    expect((await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy!.AttachmentCount).toBe(1);
    expect(await rejection(iam.send(new DeletePolicyCommand({ PolicyArn: arn })))).toMatchObject({
      name: 'DeleteConflictException',
    });
    expect(
      await rejection(
        iam.send(
          new AttachRolePolicyCommand({ RoleName: 'fw-download', PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/none` }),
        ),
      ),
    ).toMatchObject({ name: 'NoSuchEntityException' });

    await iam.send(new DetachRolePolicyCommand({ RoleName: 'fw-download', PolicyArn: arn }));
    await iam.send(
      new DetachRolePolicyCommand({
        RoleName: 'fw-download',
        PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
      }),
    );
    expect(
      await rejection(iam.send(new DetachRolePolicyCommand({ RoleName: 'fw-download', PolicyArn: arn }))),
    ).toMatchObject({ name: 'NoSuchEntityException' });
    await iam.send(new DeletePolicyCommand({ PolicyArn: arn }));
    expect(await rejection(iam.send(new GetPolicyCommand({ PolicyArn: arn })))).toMatchObject({
      name: 'NoSuchEntityException',
    });
    await iam.send(new DeleteRoleCommand({ RoleName: 'fw-download' }));
    expect(await rejection(iam.send(new GetRoleCommand({ RoleName: 'fw-download' })))).toMatchObject({
      name: 'NoSuchEntityException',
    });
  });

  it('refuses a wrong secret with SignatureDoesNotMatch', async () => {
    const bad = new IAMClient({
      endpoint: t.endpoint,
      region: TEST_REGION,
      credentials: { accessKeyId: t.credentials.accessKeyId, secretAccessKey: 'wrong' },
      maxAttempts: 1,
    });
    expect(await rejection(bad.send(new ListRolesCommand({})))).toMatchObject({
      name: 'SignatureDoesNotMatch',
      status: 403,
    });
    bad.destroy();
  });
});

describe('IAM with the aws CLI', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.stop();
  });
  const aws = (...args: string[]) => awsCli(t.endpoint, t.awsEnv(), args);

  it('manages a role and its policies; botocore decodes the policy documents', async () => {
    const doc = trust({ StringEquals: { 'aws:SourceAccount': ACCOUNT } });
    const created = await aws('iam', 'create-role', '--role-name', 'cli-role', '--assume-role-policy-document', doc);
    expect(created.code, created.stderr).toBe(0);
    expect((created.json as { Role: { AssumeRolePolicyDocument: unknown } }).Role.AssumeRolePolicyDocument).toEqual(
      JSON.parse(doc),
    );
    expect(
      (
        await aws(
          'iam',
          'put-role-policy',
          '--role-name',
          'cli-role',
          '--policy-name',
          'read',
          '--policy-document',
          readPolicy,
        )
      ).code,
    ).toBe(0);
    const got = await aws('iam', 'get-role-policy', '--role-name', 'cli-role', '--policy-name', 'read');
    expect((got.json as { PolicyDocument: unknown }).PolicyDocument).toEqual(JSON.parse(readPolicy));
    const listed = await aws('iam', 'list-role-policies', '--role-name', 'cli-role');
    expect(listed.json).toEqual({ PolicyNames: ['read'] });
    const policy = await aws('iam', 'create-policy', '--policy-name', 'p1', '--policy-document', readPolicy);
    const arn = (policy.json as { Policy: { Arn: string } }).Policy.Arn;
    expect((await aws('iam', 'attach-role-policy', '--role-name', 'cli-role', '--policy-arn', arn)).code).toBe(0);
    const attached = await aws('iam', 'list-attached-role-policies', '--role-name', 'cli-role');
    expect(attached.json).toEqual({ AttachedPolicies: [{ PolicyName: 'p1', PolicyArn: arn }] });
    const roles = await aws('iam', 'list-roles');
    expect((roles.json as { Roles: { RoleName: string }[] }).Roles.map((r) => r.RoleName)).toEqual(['cli-role']);

    const conflict = await aws('iam', 'delete-role', '--role-name', 'cli-role');
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toContain('(DeleteConflict)');
    expect((await aws('iam', 'detach-role-policy', '--role-name', 'cli-role', '--policy-arn', arn)).code).toBe(0);
    expect((await aws('iam', 'delete-role-policy', '--role-name', 'cli-role', '--policy-name', 'read')).code).toBe(0);
    expect((await aws('iam', 'delete-role', '--role-name', 'cli-role')).code).toBe(0);
    const missing = await aws('iam', 'get-role', '--role-name', 'cli-role');
    expect(missing.stderr).toContain('An error occurred (NoSuchEntity) when calling the GetRole operation');
  });
});
