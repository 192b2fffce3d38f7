import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Client } from './s3.js';
import { TEST_REGION, type TestServer } from './server.js';

export const ACCOUNT = '000000000000';
export const roleArn = (name: string): string => `arn:aws:iam::${ACCOUNT}:role/${name}`;

/** A trust policy for iot.amazonaws.com; `conditions` false leaves out the confused-deputy keys. */
export const iotTrust = (conditions = true): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'iot.amazonaws.com' },
        Action: 'sts:AssumeRole',
        ...(conditions && {
          Condition: {
            StringEquals: { 'aws:SourceAccount': ACCOUNT },
            ArnLike: { 'aws:SourceArn': `arn:aws:iot:${TEST_REGION}:${ACCOUNT}:stream/*` },
          },
        }),
      },
    ],
  });

export const allowRead = (resource: string): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: resource }],
  });

/** Buckets, objects and roles for streams, made through the real S3 and IAM clients. */
export class StreamFixture {
  readonly s3: S3Client;
  readonly iam: IAMClient;

  constructor(t: TestServer) {
    this.s3 = s3Client(t);
    this.iam = new IAMClient({ endpoint: t.endpoint, region: TEST_REGION, credentials: t.credentials, maxAttempts: 1 });
  }

  async bucket(name: string): Promise<void> {
    await this.s3.send(new CreateBucketCommand({ Bucket: name }));
    await this.s3.send(
      new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }),
    );
  }

  /** Puts an object; resolves with its version id. */
  async put(bucket: string, key: string, body: Buffer): Promise<string> {
    return (await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))).VersionId!;
  }

  async role(name: string, trust: string, permissions?: string): Promise<string> {
    await this.iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust }));
    if (permissions) {
      await this.iam.send(
        new PutRolePolicyCommand({ RoleName: name, PolicyName: 'files', PolicyDocument: permissions }),
      );
    }
    return roleArn(name);
  }

  destroy(): void {
    this.s3.destroy();
    this.iam.destroy();
  }
}
