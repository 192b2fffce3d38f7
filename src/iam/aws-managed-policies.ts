/**
 * A few AWS-managed policies that roles for firmware downloads commonly attach. They live in code
 * (ARN account `aws`), are read-only and exist on every server.
 */
export interface AwsManagedPolicy {
  arn: string;
  name: string;
  description: string;
  document: string;
}

const managed = (name: string, description: string, statement: object): AwsManagedPolicy => ({
  arn: `arn:aws:iam::aws:policy/${name}`,
  name,
  description,
  document: JSON.stringify({ Version: '2012-10-17', Statement: [statement] }),
});

export const AWS_MANAGED_POLICIES: readonly AwsManagedPolicy[] = [
  managed('AmazonS3ReadOnlyAccess', 'Provides read only access to all buckets.', {
    Effect: 'Allow',
    Action: ['s3:Get*', 's3:List*'],
    Resource: '*',
  }),
  managed('AmazonS3FullAccess', 'Provides full access to all buckets.', {
    Effect: 'Allow',
    Action: 's3:*',
    Resource: '*',
  }),
];

export const findAwsManagedPolicy = (arn: string): AwsManagedPolicy | undefined =>
  AWS_MANAGED_POLICIES.find((p) => p.arn === arn);
