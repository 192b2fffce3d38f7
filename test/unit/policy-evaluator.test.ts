import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { ServiceError } from '../../src/errors.js';
import { evaluateCondition, parseOperator } from '../../src/iam/policy-conditions.js';
import { parsePolicyDocument, type PolicyKind } from '../../src/iam/policy-document.js';
import {
  evaluatePolicies,
  type DecisionEffect,
  type EvaluationRequest,
  type RequestPrincipal,
} from '../../src/iam/policy-evaluator.js';

const ACCOUNT = '123456789012';
const JOB_ARN = `arn:aws:iot:us-east-1:${ACCOUNT}:job/fw-1`;
const IOT: RequestPrincipal = { type: 'Service', id: 'iot.amazonaws.com' };
const OBJECT = 'arn:aws:s3:::firmware/releases/v1.bin';
const NOW = Date.UTC(2030, 5, 15, 12, 0, 0);

type Stmt = Record<string, unknown>;
const doc = (...statements: Stmt[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const allow = (extra: Stmt): Stmt => ({ Effect: 'Allow', ...extra });
const deny = (extra: Stmt): Stmt => ({ Effect: 'Deny', ...extra });

const trustBase = { Principal: { Service: 'iot.amazonaws.com' }, Action: 'sts:AssumeRole' };
const assume = (context: Record<string, string | string[]>, principal: RequestPrincipal = IOT): EvaluationRequest => ({
  action: 'sts:AssumeRole',
  resource: `arn:aws:iam::${ACCOUNT}:role/fw`,
  principal,
  context,
});
const jobContext = { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': JOB_ARN };
const get = (resource = OBJECT, context: Record<string, string | string[]> = {}): EvaluationRequest => ({
  action: 's3:GetObject',
  resource,
  context,
});

interface Case {
  name: string;
  kind: PolicyKind;
  policies: string[];
  request: EvaluationRequest;
  expect: DecisionEffect;
}

const CASES: Case[] = [
  // Effects and the deny-wins rule
  {
    name: 'allow on exact action and resource',
    kind: 'identity',
    policies: [doc(allow({ Action: 's3:GetObject', Resource: OBJECT }))],
    request: get(),
    expect: 'Allow',
  },
  {
    name: 'no statement applies',
    kind: 'identity',
    policies: [doc(allow({ Action: 's3:PutObject', Resource: '*' }))],
    request: get(),
    expect: 'ImplicitDeny',
  },
  {
    name: 'explicit deny wins over allow in the same policy',
    kind: 'identity',
    policies: [doc(allow({ Action: 's3:*', Resource: '*' }), deny({ Action: 's3:GetObject', Resource: OBJECT }))],
    request: get(),
    expect: 'ExplicitDeny',
  },
  {
    name: 'explicit deny in another policy wins',
    kind: 'identity',
    policies: [
      doc(allow({ Action: '*', Resource: '*' })),
      doc(deny({ Action: 's3:Get*', Resource: 'arn:aws:s3:::firmware/*' })),
    ],
    request: get(),
    expect: 'ExplicitDeny',
  },
  {
    name: 'deny that does not match leaves the allow',
    kind: 'identity',
    policies: [
      doc(
        allow({ Action: 's3:GetObject', Resource: '*' }),
        deny({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::other/*' }),
      ),
    ],
    request: get(),
    expect: 'Allow',
  },
  // Action / NotAction
  {
    name: 'action wildcard s3:Get*',
    kind: 'identity',
    policies: [doc(allow({ Action: 's3:Get*', Resource: '*' }))],
    request: get(),
    expect: 'Allow',
  },
  {
    name: 'action match is case-insensitive',
    kind: 'identity',
    policies: [doc(allow({ Action: 'S3:getobject', Resource: '*' }))],
    request: get(),
    expect: 'Allow',
  },
  {
    name: 'action ? wildcard',
    kind: 'identity',
    policies: [doc(allow({ Action: 's3:GetObjec?', Resource: '*' }))],
    request: get(),
    expect: 'Allow',
  },
  {
    name: 'action list, one matches',
    kind: 'identity',
    policies: [doc(allow({ Action: ['s3:ListBucket', 's3:GetObject'], Resource: '*' }))],
    request: get(),
    expect: 'Allow',
  },
  {
    name: 'other service does not match',
    kind: 'identity',
    policies: [doc(allow({ Action: 'iot:*', Resource: '*' }))],
    request: get(),
    expect: 'ImplicitDeny',
  },
  {
    name: 'NotAction allows everything else',
    kind: 'identity',
    policies: [doc(allow({ NotAction: 's3:PutObject', Resource: '*' }))],
    request: get(),
    expect: 'Allow',
  },
  {
    name: 'NotAction excludes the action',
    kind: 'identity',
    policies: [doc(allow({ NotAction: 's3:Get*', Resource: '*' }))],
    request: get(),
    expect: 'ImplicitDeny',
  },
  {
    name: 'Deny with NotAction denies all but listed',
    kind: 'identity',
    policies: [doc(allow({ Action: '*', Resource: '*' }), deny({ NotAction: 'iot:*', Resource: '*' }))],
    request: get(),
    expect: 'ExplicitDeny',
  },
  // Resource / NotResource
  {
    name: 'resource bucket/* wildcard',
    kind: 'identity',
    policies: [doc(allow({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::firmware/*' }))],
    request: get(),
    expect: 'Allow',
  },
  {
    name: 'resource of another bucket',
    kind: 'identity',
    policies: [doc(allow({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::firmwar/*' }))],
    request: get(),
    expect: 'ImplicitDeny',
  },
  {
    name: 'bucket ARN does not cover its objects',
    kind: 'identity',
    policies: [doc(allow({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::firmware' }))],
    request: get(),
    expect: 'ImplicitDeny',
  },
  {
    name: 'resource is case-sensitive',
    kind: 'identity',
    policies: [doc(allow({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::FIRMWARE/*' }))],
    request: get(),
    expect: 'ImplicitDeny',
  },
  {
    name: 'resource ? wildcard',
    kind: 'identity',
    policies: [doc(allow({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::firmware/releases/v?.bin' }))],
    request: get(),
    expect: 'Allow',
  },
  {
    name: 'resource wildcard in the region segment',
    kind: 'identity',
    policies: [doc(allow({ Action: 'iot:*', Resource: `arn:aws:iot:*:${ACCOUNT}:job/*` }))],
    request: { action: 'iot:DescribeJob', resource: JOB_ARN },
    expect: 'Allow',
  },
  {
    name: 'NotResource excludes the object',
    kind: 'identity',
    policies: [doc(allow({ Action: 's3:GetObject', NotResource: 'arn:aws:s3:::firmware/*' }))],
    request: get(),
    expect: 'ImplicitDeny',
  },
  {
    name: 'NotResource allows other objects',
    kind: 'identity',
    policies: [doc(allow({ Action: 's3:GetObject', NotResource: 'arn:aws:s3:::secret/*' }))],
    request: get(),
    expect: 'Allow',
  },
  // Principal (trust policies)
  {
    name: 'trust: iot service may assume',
    kind: 'trust',
    policies: [doc(allow(trustBase))],
    request: assume({}),
    expect: 'Allow',
  },
  {
    name: 'trust: another service may not',
    kind: 'trust',
    policies: [doc(allow(trustBase))],
    request: assume({}, { type: 'Service', id: 'lambda.amazonaws.com' }),
    expect: 'ImplicitDeny',
  },
  {
    name: 'trust: service list',
    kind: 'trust',
    policies: [doc(allow({ ...trustBase, Principal: { Service: ['lambda.amazonaws.com', 'iot.amazonaws.com'] } }))],
    request: assume({}),
    expect: 'Allow',
  },
  {
    name: 'trust: wrong action',
    kind: 'trust',
    policies: [doc(allow({ ...trustBase, Action: 'sts:AssumeRoleWithWebIdentity' }))],
    request: assume({}),
    expect: 'ImplicitDeny',
  },
  {
    name: 'trust: Principal "*"',
    kind: 'trust',
    policies: [doc(allow({ ...trustBase, Principal: '*' }))],
    request: assume({}),
    expect: 'Allow',
  },
  {
    name: 'trust: AWS "*" matches any principal',
    kind: 'trust',
    policies: [doc(allow({ ...trustBase, Principal: { AWS: '*' } }))],
    request: assume({}),
    expect: 'Allow',
  },
  {
    name: 'trust: AWS account id matches a role in it',
    kind: 'trust',
    policies: [doc(allow({ ...trustBase, Principal: { AWS: ACCOUNT } }))],
    request: assume({}, { type: 'AWS', id: `arn:aws:iam::${ACCOUNT}:role/ops` }),
    expect: 'Allow',
  },
  {
    name: 'trust: AWS root ARN matches its account',
    kind: 'trust',
    policies: [doc(allow({ ...trustBase, Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }))],
    request: assume({}, { type: 'AWS', id: `arn:aws:iam::${ACCOUNT}:user/alice` }),
    expect: 'Allow',
  },
  {
    name: 'trust: AWS other account',
    kind: 'trust',
    policies: [doc(allow({ ...trustBase, Principal: { AWS: '999999999999' } }))],
    request: assume({}, { type: 'AWS', id: `arn:aws:iam::${ACCOUNT}:user/alice` }),
    expect: 'ImplicitDeny',
  },
  {
    name: 'trust: role ARN names its sessions',
    kind: 'trust',
    policies: [doc(allow({ ...trustBase, Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/ops` } }))],
    request: assume({}, { type: 'AWS', id: `arn:aws:sts::${ACCOUNT}:assumed-role/ops/s1` }),
    expect: 'Allow',
  },
  {
    name: 'trust: NotPrincipal excludes iot',
    kind: 'trust',
    policies: [doc(allow({ Action: 'sts:AssumeRole', NotPrincipal: { Service: 'iot.amazonaws.com' } }))],
    request: assume({}),
    expect: 'ImplicitDeny',
  },
  // Confused-deputy conditions (spec 8)
  {
    name: 'trust: SourceAccount and SourceArn satisfied for this job',
    kind: 'trust',
    policies: [
      doc(
        allow({
          ...trustBase,
          Condition: {
            StringEquals: { 'aws:SourceAccount': ACCOUNT },
            ArnLike: { 'aws:SourceArn': `arn:aws:iot:*:${ACCOUNT}:job/*` },
          },
        }),
      ),
    ],
    request: assume(jobContext),
    expect: 'Allow',
  },
  {
    name: 'trust: SourceAccount of another account',
    kind: 'trust',
    policies: [doc(allow({ ...trustBase, Condition: { StringEquals: { 'aws:SourceAccount': '999999999999' } } }))],
    request: assume(jobContext),
    expect: 'ImplicitDeny',
  },
  {
    name: 'trust: SourceArn limited to another job',
    kind: 'trust',
    policies: [
      doc(
        allow({
          ...trustBase,
          Condition: { ArnEquals: { 'aws:SourceArn': `arn:aws:iot:us-east-1:${ACCOUNT}:job/other` } },
        }),
      ),
    ],
    request: assume(jobContext),
    expect: 'ImplicitDeny',
  },
  {
    name: 'trust: condition on a missing key fails',
    kind: 'trust',
    policies: [doc(allow({ ...trustBase, Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } } }))],
    request: assume({}),
    expect: 'ImplicitDeny',
  },
  {
    name: 'condition keys are case-insensitive',
    kind: 'trust',
    policies: [doc(allow({ ...trustBase, Condition: { StringEquals: { 'AWS:sourceaccount': ACCOUNT } } }))],
    request: assume(jobContext),
    expect: 'Allow',
  },
  // String operators
  {
    name: 'StringLike with *',
    kind: 'identity',
    policies: [
      doc(allow({ Action: '*', Resource: '*', Condition: { StringLike: { 'aws:SourceArn': '*:job/fw-*' } } })),
    ],
    request: get(OBJECT, jobContext),
    expect: 'Allow',
  },
  {
    name: 'StringNotEquals with matching value fails',
    kind: 'identity',
    policies: [
      doc(allow({ Action: '*', Resource: '*', Condition: { StringNotEquals: { 'aws:SourceAccount': ACCOUNT } } })),
    ],
    request: get(OBJECT, jobContext),
    expect: 'ImplicitDeny',
  },
  {
    name: 'StringNotEquals on a missing key holds',
    kind: 'identity',
    policies: [
      doc(allow({ Action: '*', Resource: '*', Condition: { StringNotEquals: { 'aws:SourceAccount': ACCOUNT } } })),
    ],
    request: get(),
    expect: 'Allow',
  },
  {
    name: 'StringEqualsIgnoreCase',
    kind: 'identity',
    policies: [
      doc(
        allow({
          Action: '*',
          Resource: '*',
          Condition: { StringEqualsIgnoreCase: { 'aws:SourceArn': JOB_ARN.toUpperCase() } },
        }),
      ),
    ],
    request: get(OBJECT, jobContext),
    expect: 'Allow',
  },
  {
    name: 'StringEquals is case-sensitive',
    kind: 'identity',
    policies: [
      doc(
        allow({ Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:SourceArn': JOB_ARN.toUpperCase() } } }),
      ),
    ],
    request: get(OBJECT, jobContext),
    expect: 'ImplicitDeny',
  },
  {
    name: 'values of one key are ORed',
    kind: 'identity',
    policies: [
      doc(
        allow({
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:SourceAccount': ['111111111111', ACCOUNT] } },
        }),
      ),
    ],
    request: get(OBJECT, jobContext),
    expect: 'Allow',
  },
  {
    name: 'keys and operators are ANDed',
    kind: 'identity',
    policies: [
      doc(
        allow({
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': 'nope' } },
        }),
      ),
    ],
    request: get(OBJECT, jobContext),
    expect: 'ImplicitDeny',
  },
  // IfExists / Null / Bool / Numeric / Date
  {
    name: 'IfExists on a missing key holds',
    kind: 'identity',
    policies: [
      doc(allow({ Action: '*', Resource: '*', Condition: { StringEqualsIfExists: { 'aws:SourceAccount': '1' } } })),
    ],
    request: get(),
    expect: 'Allow',
  },
  {
    name: 'IfExists on a present key compares',
    kind: 'identity',
    policies: [
      doc(allow({ Action: '*', Resource: '*', Condition: { StringEqualsIfExists: { 'aws:SourceAccount': '1' } } })),
    ],
    request: get(OBJECT, jobContext),
    expect: 'ImplicitDeny',
  },
  {
    name: 'Null true on a missing key',
    kind: 'identity',
    policies: [doc(allow({ Action: '*', Resource: '*', Condition: { Null: { 'aws:SourceArn': 'true' } } }))],
    request: get(),
    expect: 'Allow',
  },
  {
    name: 'Null false on a missing key',
    kind: 'identity',
    policies: [doc(allow({ Action: '*', Resource: '*', Condition: { Null: { 'aws:SourceArn': 'false' } } }))],
    request: get(),
    expect: 'ImplicitDeny',
  },
  {
    name: 'Bool true',
    kind: 'identity',
    policies: [doc(allow({ Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } }))],
    request: get(OBJECT, { 'aws:SecureTransport': 'true' }),
    expect: 'Allow',
  },
  {
    name: 'Bool with a JSON boolean value',
    kind: 'identity',
    policies: [doc(allow({ Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': false } } }))],
    request: get(OBJECT, { 'aws:SecureTransport': 'true' }),
    expect: 'ImplicitDeny',
  },
  {
    name: 'NumericLessThan',
    kind: 'identity',
    policies: [doc(allow({ Action: '*', Resource: '*', Condition: { NumericLessThan: { 's3:max-keys': '10' } } }))],
    request: get(OBJECT, { 's3:max-keys': '9' }),
    expect: 'Allow',
  },
  {
    name: 'NumericLessThan at the bound',
    kind: 'identity',
    policies: [doc(allow({ Action: '*', Resource: '*', Condition: { NumericLessThan: { 's3:max-keys': '10' } } }))],
    request: get(OBJECT, { 's3:max-keys': '10' }),
    expect: 'ImplicitDeny',
  },
  {
    name: 'NumericGreaterThanEquals',
    kind: 'identity',
    policies: [
      doc(allow({ Action: '*', Resource: '*', Condition: { NumericGreaterThanEquals: { 's3:max-keys': 10 } } })),
    ],
    request: get(OBJECT, { 's3:max-keys': '10' }),
    expect: 'Allow',
  },
  {
    name: 'Numeric on a non-number',
    kind: 'identity',
    policies: [doc(allow({ Action: '*', Resource: '*', Condition: { NumericEquals: { 's3:max-keys': '10' } } }))],
    request: get(OBJECT, { 's3:max-keys': 'ten' }),
    expect: 'ImplicitDeny',
  },
  {
    name: 'DateLessThan aws:CurrentTime from the clock (before)',
    kind: 'identity',
    policies: [
      doc(
        allow({
          Action: '*',
          Resource: '*',
          Condition: { DateLessThan: { 'aws:CurrentTime': '2030-06-15T12:00:01Z' } },
        }),
      ),
    ],
    request: get(),
    expect: 'Allow',
  },
  {
    name: 'DateLessThan aws:CurrentTime from the clock (after)',
    kind: 'identity',
    policies: [
      doc(
        allow({
          Action: '*',
          Resource: '*',
          Condition: { DateLessThan: { 'aws:CurrentTime': '2030-06-15T12:00:00Z' } },
        }),
      ),
    ],
    request: get(),
    expect: 'ImplicitDeny',
  },
  {
    name: 'DateGreaterThan with epoch seconds',
    kind: 'identity',
    policies: [
      doc(
        allow({
          Action: '*',
          Resource: '*',
          Condition: { DateGreaterThan: { 'aws:CurrentTime': String(NOW / 1000 - 1) } },
        }),
      ),
    ],
    request: get(),
    expect: 'Allow',
  },
  {
    name: 'DateEquals aws:EpochTime',
    kind: 'identity',
    policies: [
      doc(allow({ Action: '*', Resource: '*', Condition: { DateEquals: { 'aws:EpochTime': String(NOW / 1000) } } })),
    ],
    request: get(),
    expect: 'Allow',
  },
  {
    name: 'Deny outside a time window',
    kind: 'identity',
    policies: [
      doc(
        allow({ Action: '*', Resource: '*' }),
        deny({
          Action: '*',
          Resource: '*',
          Condition: { DateGreaterThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } },
        }),
      ),
    ],
    request: get(),
    expect: 'ExplicitDeny',
  },
  // Arn*
  {
    name: 'ArnLike on a job pattern',
    kind: 'identity',
    policies: [
      doc(
        allow({
          Action: '*',
          Resource: '*',
          Condition: { ArnLike: { 'aws:SourceArn': `arn:aws:iot:us-east-1:${ACCOUNT}:job/*` } },
        }),
      ),
    ],
    request: get(OBJECT, jobContext),
    expect: 'Allow',
  },
  {
    name: 'ArnLike region segment does not leak into account',
    kind: 'identity',
    policies: [
      doc(
        allow({
          Action: '*',
          Resource: '*',
          Condition: { ArnLike: { 'aws:SourceArn': `arn:aws:iot:*:999999999999:job/*` } },
        }),
      ),
    ],
    request: get(OBJECT, jobContext),
    expect: 'ImplicitDeny',
  },
  {
    name: 'ArnNotLike on a matching ARN',
    kind: 'identity',
    policies: [
      doc(
        allow({ Action: '*', Resource: '*', Condition: { ArnNotLike: { 'aws:SourceArn': 'arn:aws:iot:*:*:job/*' } } }),
      ),
    ],
    request: get(OBJECT, jobContext),
    expect: 'ImplicitDeny',
  },
  {
    name: 'ArnEquals exact',
    kind: 'identity',
    policies: [doc(allow({ Action: '*', Resource: '*', Condition: { ArnEquals: { 'aws:SourceArn': JOB_ARN } } }))],
    request: get(OBJECT, jobContext),
    expect: 'Allow',
  },
  // Set qualifiers
  {
    name: 'ForAnyValue: one request value matches',
    kind: 'identity',
    policies: [
      doc(
        allow({ Action: '*', Resource: '*', Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['a', 'b'] } } }),
      ),
    ],
    request: get(OBJECT, { 'aws:TagKeys': ['z', 'b'] }),
    expect: 'Allow',
  },
  {
    name: 'ForAnyValue: none matches',
    kind: 'identity',
    policies: [
      doc(allow({ Action: '*', Resource: '*', Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['a'] } } })),
    ],
    request: get(OBJECT, { 'aws:TagKeys': ['z'] }),
    expect: 'ImplicitDeny',
  },
  {
    name: 'ForAnyValue: missing key fails',
    kind: 'identity',
    policies: [
      doc(allow({ Action: '*', Resource: '*', Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['a'] } } })),
    ],
    request: get(),
    expect: 'ImplicitDeny',
  },
  {
    name: 'ForAllValues: all request values allowed',
    kind: 'identity',
    policies: [
      doc(
        allow({
          Action: '*',
          Resource: '*',
          Condition: { 'ForAllValues:StringLike': { 'aws:TagKeys': ['env*', 'owner'] } },
        }),
      ),
    ],
    request: get(OBJECT, { 'aws:TagKeys': ['env-a', 'owner'] }),
    expect: 'Allow',
  },
  {
    name: 'ForAllValues: one request value outside',
    kind: 'identity',
    policies: [
      doc(allow({ Action: '*', Resource: '*', Condition: { 'ForAllValues:StringLike': { 'aws:TagKeys': ['env*'] } } })),
    ],
    request: get(OBJECT, { 'aws:TagKeys': ['env-a', 'owner'] }),
    expect: 'ImplicitDeny',
  },
  {
    name: 'ForAllValues: missing key holds',
    kind: 'identity',
    policies: [
      doc(allow({ Action: '*', Resource: '*', Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['a'] } } })),
    ],
    request: get(),
    expect: 'Allow',
  },
  {
    name: 'ForAllValues:StringNotEquals: none forbidden',
    kind: 'identity',
    policies: [
      doc(
        allow({
          Action: '*',
          Resource: '*',
          Condition: { 'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['secret'] } },
        }),
      ),
    ],
    request: get(OBJECT, { 'aws:TagKeys': ['a', 'b'] }),
    expect: 'Allow',
  },
  {
    name: 'ForAnyValue:StringNotEquals: one value differs',
    kind: 'identity',
    policies: [
      doc(
        allow({ Action: '*', Resource: '*', Condition: { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['a'] } } }),
      ),
    ],
    request: get(OBJECT, { 'aws:TagKeys': ['a', 'b'] }),
    expect: 'Allow',
  },
  {
    name: 'ForAllValues with IfExists',
    kind: 'identity',
    policies: [
      doc(
        allow({
          Action: '*',
          Resource: '*',
          Condition: { 'ForAllValues:StringEqualsIfExists': { 'aws:TagKeys': ['a'] } },
        }),
      ),
    ],
    request: get(OBJECT, { 'aws:TagKeys': ['b'] }),
    expect: 'ImplicitDeny',
  },
];

describe('policy evaluator (table)', () => {
  const clock = new FakeClock(NOW);
  it.each(CASES)('$name -> $expect', (c) => {
    const policies = c.policies.map((text, i) => ({ name: `p${i}`, document: parsePolicyDocument(text, c.kind) }));
    expect(evaluatePolicies(policies, c.request, clock).effect).toBe(c.expect);
  });

  it('explains why a trust policy does not apply', () => {
    const policies = [
      {
        name: 'trust',
        document: parsePolicyDocument(
          doc(
            allow({
              ...trustBase,
              Sid: 'IoT',
              Condition: { ArnLike: { 'aws:SourceArn': `arn:aws:iot:*:${ACCOUNT}:job/other-*` } },
            }),
          ),
          'trust',
        ),
      },
    ];
    const decision = evaluatePolicies(policies, assume(jobContext), clock);
    expect(decision.effect).toBe('ImplicitDeny');
    expect(decision.reasons).toEqual([
      `trust statement 'IoT': condition ArnLike aws:SourceArn [arn:aws:iot:*:${ACCOUNT}:job/other-*] is not met (request value: ${JOB_ARN})`,
    ]);
  });

  it('a clock move changes the time-bound decision', () => {
    const moving = new FakeClock(NOW);
    const policies = [
      {
        name: 'p',
        document: parsePolicyDocument(
          doc(
            allow({
              Action: '*',
              Resource: '*',
              Condition: { DateLessThan: { 'aws:CurrentTime': '2030-06-15T13:00:00Z' } },
            }),
          ),
          'identity',
        ),
      },
    ];
    expect(evaluatePolicies(policies, get(), moving).effect).toBe('Allow');
    moving.advance(3600_000);
    expect(evaluatePolicies(policies, get(), moving).effect).toBe('ImplicitDeny');
  });
});

describe('condition operators', () => {
  it('parses qualifiers and IfExists', () => {
    expect(parseOperator('ForAnyValue:StringLikeIfExists')).toEqual({
      qualifier: 'ForAnyValue',
      base: 'StringLike',
      ifExists: true,
    });
    expect(parseOperator('ArnLike')).toEqual({ base: 'ArnLike', ifExists: false });
    expect(parseOperator('NullIfExists')).toBeUndefined();
    expect(parseOperator('StringSortOf')).toBeUndefined();
  });

  it('IpAddress matches a CIDR block', () => {
    const op = parseOperator('IpAddress')!;
    expect(evaluateCondition(op, ['10.1.0.0/16'], ['10.1.200.3'])).toBe(true);
    expect(evaluateCondition(op, ['10.1.0.0/16'], ['10.2.0.1'])).toBe(false);
  });
});

describe('policy documents', () => {
  const bad: [string, string, PolicyKind, RegExp][] = [
    ['not JSON', '{', 'identity', /not valid JSON/],
    ['no Statement', '{"Version":"2012-10-17"}', 'identity', /missing the Statement/],
    [
      'bad version',
      doc(allow({ Action: '*', Resource: '*' })).replace('2012-10-17', '2020-01-01'),
      'identity',
      /Version/,
    ],
    ['bad effect', doc({ Effect: 'Maybe', Action: '*', Resource: '*' }), 'identity', /Effect/],
    ['no action', doc(allow({ Resource: '*' })), 'identity', /missing the Action/],
    [
      'action and NotAction',
      doc(allow({ Action: '*', NotAction: 's3:x', Resource: '*' })),
      'identity',
      /both Action and NotAction/,
    ],
    ['identity policy without Resource', doc(allow({ Action: '*' })), 'identity', /missing the Resource/],
    [
      'identity policy with Principal',
      doc(allow({ Action: '*', Resource: '*', Principal: '*' })),
      'identity',
      /should not specify a principal/,
    ],
    ['trust policy without Principal', doc(allow({ Action: 'sts:AssumeRole' })), 'trust', /missing the Principal/],
    [
      'unknown operator',
      doc(allow({ Action: '*', Resource: '*', Condition: { StringSortOf: { a: 'b' } } })),
      'identity',
      /Invalid Condition operator/,
    ],
    [
      'bad principal type',
      doc(allow({ Action: 'sts:AssumeRole', Principal: { Robot: 'x' } })),
      'trust',
      /Invalid principal type/,
    ],
    ['bad action form', doc(allow({ Action: 'GetObject', Resource: '*' })), 'identity', /service:Action/],
    ['unknown element', doc(allow({ Action: '*', Resource: '*', Effects: 'Allow' })), 'identity', /unknown element/],
  ];
  it.each(bad)('refuses %s', (_name, text, kind, message) => {
    let caught: unknown;
    try {
      parsePolicyDocument(text, kind);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ServiceError);
    expect((caught as ServiceError).code).toBe('MalformedPolicyDocument');
    expect((caught as ServiceError).message).toMatch(message);
  });

  it('accepts a single statement object and string values', () => {
    const parsed = parsePolicyDocument(
      JSON.stringify({
        Version: '2012-10-17',
        Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: OBJECT },
      }),
      'identity',
    );
    expect(parsed.statements).toEqual([{ effect: 'Allow', action: ['s3:GetObject'], resource: [OBJECT] }]);
  });
});
