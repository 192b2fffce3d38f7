import * as iotModel from '@aws-sdk/client-iot';
import * as dataModel from '@aws-sdk/client-iot-jobs-data-plane';
import * as signerModel from '@aws-sdk/client-signer';
import { CreateThingCommand, CreateThingGroupCommand, type IoTClient } from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signedRequest } from '../helpers/signed.js';

/**
 * Issue 14 item 2, for every operation: the SDKs' own models (their `Operation$` schemas) name the
 * members of each input; every optional body member is sent as JSON null in one request and left
 * out in another, and the two answers must be the same (AWS treats null as absent), never a 5xx.
 * Create operations sort before Describe and Update ones, so later operations meet the resources made earlier.
 */
type MemberSchema = number | [number, unknown] | (() => unknown);
type StructSchema = [number, string, string, number, string[], MemberSchema[]?, number?];
type OperationSchema = [9, string, string, { http?: [string, string, number] }, () => StructSchema, unknown];

interface Operation {
  service: string;
  name: string;
  method: string;
  path: string;
  labels: string[];
  required: string[];
  optional: string[];
}

function bodyMember(schema: MemberSchema | undefined): boolean {
  if (!Array.isArray(schema)) return true;
  const traits = schema[1];
  if (traits === 1) return false; // httpLabel
  if (typeof traits === 'object' && traits !== null) {
    return !['httpLabel', 'httpQuery', 'httpHeader', 'httpPayload', 'httpQueryParams', 'httpPrefixHeaders'].some(
      (k) => k in traits,
    );
  }
  return true;
}

function operationsOf(service: string, model: Record<string, unknown>): Operation[] {
  const out: Operation[] = [];
  for (const [key, value] of Object.entries(model)) {
    if (!key.endsWith('$') || !Array.isArray(value) || value[0] !== 9) continue;
    const op = value as OperationSchema;
    const http = op[3].http;
    if (!http) continue;
    const input = op[4]();
    const names = input[4] ?? [];
    const schemas = input[5] ?? [];
    const requiredCount = input[6] ?? 0;
    const required: string[] = [];
    const optional: string[] = [];
    names.forEach((name, i) => {
      if (!bodyMember(schemas[i])) return;
      (i < requiredCount ? required : optional).push(name);
    });
    const labels = [...http[1].matchAll(/\{([^}+]+)\+?\}/g)].map((m) => m[1]!);
    if (optional.length > 0)
      out.push({ service, name: op[2], method: http[0], path: http[1], labels, required, optional });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

const OPERATIONS = [
  ...operationsOf('iot', iotModel as unknown as Record<string, unknown>),
  ...operationsOf('iot-jobs-data', dataModel as unknown as Record<string, unknown>),
  ...operationsOf('signer', signerModel as unknown as Record<string, unknown>),
];

const thingArn = (name: string): string => `arn:aws:iot:us-east-1:000000000000:thing/${name}`;
const DOC = JSON.stringify({ operation: 'install' });

/** Values for required body members (by name) so that operations get past validation. */
function requiredValue(member: string, label: string): unknown {
  switch (member) {
    case 'targets':
      return [thingArn(label)];
    case 'document':
      return DOC;
    case 'description':
      return 'null sweep';
    case 'status':
      return 'IN_PROGRESS';
    case 'thingName':
    case 'thingGroupName':
      return label;
    case 'tags':
      return [{ Key: 'k', Value: 'v' }];
    case 'tagKeys':
      return ['k'];
    case 'resourceArn':
      return thingArn(label);
    default:
      return undefined;
  }
}

function labelValue(label: string, suffix: string): string {
  if (/certificateId/i.test(label)) return (suffix === 'na' ? 'a' : 'b').repeat(64);
  return suffix;
}

describe.each(DIALECTS)('every optional body member: null answers as absent (%s)', (dialect) => {
  let t: TestServer;
  let iot: IoTClient;

  beforeAll(async () => {
    t = await startTestServer({ dialect });
    iot = t.iot();
    for (const name of ['na', 'nb']) {
      await iot.send(new CreateThingCommand({ thingName: name }));
      await iot.send(new CreateThingGroupCommand({ thingGroupName: name }));
    }
  });
  afterAll(async () => {
    await t.stop();
  });

  it('covers the operations the server serves', () => {
    const names = OPERATIONS.map((o) => `${o.service}:${o.name}`);
    for (const op of ['iot:CreateJob', 'iot:UpdateJob', 'iot:CancelJobExecution', 'iot-jobs-data:UpdateJobExecution']) {
      expect(names).toContain(op);
    }
  });

  it('sends each operation with nulls and without, and compares the answers', async () => {
    const served: string[] = [];
    const mismatches: string[] = [];
    for (const op of OPERATIONS) {
      const call = (suffix: 'na' | 'nb', withNulls: boolean) => {
        let path = op.path.replace(/\{([^}+]+)\+?\}/g, (_m, label: string) =>
          encodeURIComponent(labelValue(label, suffix)),
        );
        path = path.replace(/\?.*$/, (q) => q); // static query parts (e.g. ?action=...) stay
        const body: Record<string, unknown> = {};
        for (const m of op.required) {
          const v = requiredValue(m, suffix);
          if (v !== undefined) body[m] = v;
        }
        if (withNulls) for (const m of op.optional) body[m] = null;
        return signedRequest(t, { service: op.service, method: op.method, path, body: JSON.stringify(body) });
      };
      const withNulls = await call('na', true);
      const without = await call('nb', false);
      if (without.errorType === 'UnknownOperationException' || (without.status === 404 && !without.errorType)) continue;
      served.push(op.name);
      const a = `${withNulls.status} ${withNulls.errorType ?? ''}`;
      const b = `${without.status} ${without.errorType ?? ''}`;
      if (a !== b || withNulls.status >= 500 || without.status >= 500) {
        mismatches.push(`${op.service}:${op.name}: with nulls ${a} ${withNulls.text.slice(0, 160)} / absent ${b}`);
      }
    }
    expect(mismatches).toEqual([]);
    expect(served).toEqual(expect.arrayContaining(['CreateJob', 'UpdateJobExecution', 'CancelJobExecution']));
    expect(served.length).toBeGreaterThanOrEqual(15);
  });
});
