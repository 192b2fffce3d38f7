import type { Partition } from '../arns.js';

/**
 * Policy documents for a role that the jobs service assumes to presign URLs (spec 8): the trust
 * policy lets only this account's jobs assume it (confused-deputy conditions), the permission
 * policy allows reading the firmware objects, any version of them (placeholders may pin one).
 */
export function jobsTrustPolicy(p: Partition): object {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'iot.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: { 'aws:SourceAccount': p.account },
          ArnLike: { 'aws:SourceArn': `arn:aws:iot:${p.region}:${p.account}:job/*` },
        },
      },
    ],
  };
}

export function readObjectsPolicy(bucket: string): object {
  return {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: `arn:aws:s3:::${bucket}/*` },
    ],
  };
}
