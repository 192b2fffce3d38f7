import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { adminConsole, type ConsoleClient } from '../helpers/console.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';

async function rawUpload(c: ConsoleClient, path: string, body: string, csrf = c.csrfToken): Promise<Response> {
  return fetch(`${c.endpoint}/console/api${path}`, {
    method: 'PUT',
    headers: {
      cookie: [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      'content-type': 'application/octet-stream',
      ...(csrf !== undefined && { 'x-csrf-token': csrf }),
    },
    body,
  });
}

describe('console files and roles', () => {
  let t: TestServer;
  let c: ConsoleClient;
  beforeAll(async () => {
    t = await startTestServer();
    c = await adminConsole(t);
  });
  afterAll(async () => t?.stop());

  it('offers the jobs trust policy for this account and region', async () => {
    const res = await c.get<{ trustPolicy: unknown; permissionPolicy: unknown }>('/role-templates?bucket=firmware');
    expect(res.body.trustPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'iot.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: {
            StringEquals: { 'aws:SourceAccount': '000000000000' },
            ArnLike: { 'aws:SourceArn': 'arn:aws:iot:us-east-1:000000000000:job/*' },
          },
        },
      ],
    });
    expect(res.body.permissionPolicy).toMatchObject({
      Statement: [
        { Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: 'arn:aws:s3:::firmware/*' },
      ],
    });
  });

  it('creates a role with that trust policy, as IAM sees it, and edits its policies', async () => {
    const { trustPolicy, permissionPolicy } = (
      await c.get<{ trustPolicy: object; permissionPolicy: object }>('/role-templates?bucket=firmware')
    ).body;
    const created = await c.post('/roles', {
      roleName: 'jobs-presign',
      assumeRolePolicyDocument: JSON.stringify(trustPolicy),
    });
    expect(created.status).toBe(200);
    const iam = new IAMClient({
      endpoint: t.endpoint,
      region: TEST_REGION,
      credentials: t.credentials,
      maxAttempts: 1,
    });
    const viaSdk = await iam.send(new GetRoleCommand({ RoleName: 'jobs-presign' }));
    expect(JSON.parse(decodeURIComponent(viaSdk.Role!.AssumeRolePolicyDocument!))).toEqual(trustPolicy);
    iam.destroy();

    const put = await c.put('/roles/jobs-presign/policies/read-firmware', {
      policyDocument: JSON.stringify(permissionPolicy),
    });
    expect(put.status).toBe(200);
    const detail = await c.get<{ inlinePolicies: { policyName: string; policyDocument: string }[] }>(
      '/roles/jobs-presign',
    );
    expect(detail.body.inlinePolicies.map((p) => p.policyName)).toEqual(['read-firmware']);

    const broken = await c.put('/roles/jobs-presign/trust-policy', { policyDocument: '{"Version": ' });
    expect(broken.status).toBe(400);
    expect(broken.body.code).toBe('MalformedPolicyDocument');
    const missing = await c.put('/roles/nobody/trust-policy', { policyDocument: JSON.stringify(trustPolicy) });
    expect(missing.status).toBe(404);
    expect((await c.delete('/roles/jobs-presign/policies/read-firmware')).status).toBe(200);
  });

  it('creates a versioned bucket and keeps every uploaded version', async () => {
    expect((await c.post('/buckets', { bucket: 'firmware', versioning: true })).status).toBe(200);
    const first = await rawUpload(c, '/buckets/firmware/objects?key=images%2Ffw.bin', 'version one');
    expect(first.status).toBe(200);
    const second = await rawUpload(c, '/buckets/firmware/objects?key=images%2Ffw.bin', 'version two!');
    const [v1, v2] = [(await first.json()) as { versionId: string }, (await second.json()) as { versionId: string }];
    expect(v1.versionId).not.toBe(v2.versionId);
    const listed = await c.get<{ objects: { key: string; size: number }[]; versioning: string }>(
      '/buckets/firmware/objects',
    );
    expect(listed.body).toMatchObject({ versioning: 'Enabled', objects: [{ key: 'images/fw.bin', size: 12 }] });
    const versions = await c.get<{ versions: { versionId: string; isLatest: boolean }[] }>(
      '/buckets/firmware/versions?key=images%2Ffw.bin',
    );
    expect(versions.body.versions.map((v) => [v.versionId, v.isLatest])).toEqual([
      [v2.versionId, true],
      [v1.versionId, false],
    ]);
    const old = await c.get<{ text: string }>(
      `/buckets/firmware/object?key=images%2Ffw.bin&versionId=${encodeURIComponent(v1.versionId)}`,
    );
    expect(old.body.text).toBe('version one');
  });

  it('refuses an upload without the CSRF token, a bad bucket name and a missing key', async () => {
    expect((await rawUpload(c, '/buckets/firmware/objects?key=x', 'data', '')).status).toBe(403);
    const bad = await c.post('/buckets', { bucket: 'Bad_Name' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('InvalidBucketName');
    const noKey = await rawUpload(c, '/buckets/firmware/objects', 'data');
    expect(noKey.status).toBe(400);
    expect(((await noKey.json()) as { fieldErrors: { field: string }[] }).fieldErrors[0]?.field).toBe('key');
    expect((await c.get('/buckets/nope/objects')).status).toBe(404);
  });
});
