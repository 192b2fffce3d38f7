import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { FakeClock } from '../../../src/clock.js';
import { ServiceError } from '../../../src/errors.js';
import type { DeviceJobsApi } from '../../../src/protocols/mqtt/device-jobs-api.js';
import { notifyNextPayload, notifyPayload, pendingKey, headKey } from '../../../src/protocols/mqtt/jobs-payloads.js';
import { JobsRequestHandler } from '../../../src/protocols/mqtt/jobs-requests.js';
import { parseJobsTopic } from '../../../src/protocols/mqtt/jobs-topics.js';
import { ThingRateLimiter } from '../../../src/protocols/mqtt/rate-limit.js';

describe('the jobs topic table (spec 5.2, 5.7)', () => {
  it.each([
    ['$aws/things/t/jobs/get', { kind: 'request', thingName: 't', operation: 'GetPendingJobExecutions' }],
    ['$aws/things/t/jobs/start-next', { kind: 'request', operation: 'StartNextPendingJobExecution' }],
    ['$aws/things/t/jobs/$next/get', { kind: 'request', operation: 'DescribeJobExecution', jobId: '$next' }],
    ['$aws/things/t/jobs/j-1/get', { kind: 'request', operation: 'DescribeJobExecution', jobId: 'j-1' }],
    ['$aws/things/t/jobs/j-1/update', { kind: 'request', operation: 'UpdateJobExecution', jobId: 'j-1' }],
    [
      '$aws/things/t/jobs/$next/namespace-aws-gg-deployment/get',
      { kind: 'request', operation: 'DescribeJobExecution', jobId: '$next', namespaceId: 'aws-gg-deployment' },
    ],
    [
      '$aws/things/t/jobs/j/namespace-ns/update',
      { kind: 'request', operation: 'UpdateJobExecution', jobId: 'j', namespaceId: 'ns' },
    ],
    ['$aws/things/t/jobs/notify', { kind: 'service-only' }],
    ['$aws/things/t/jobs/notify-next', { kind: 'service-only' }],
    ['$aws/things/t/jobs/notify-namespace-ns', { kind: 'service-only' }],
    ['$aws/things/t/jobs/j/update/accepted', { kind: 'service-only' }],
    ['$aws/things/t/jobs/get/rejected', { kind: 'service-only' }],
    ['$aws/things/t/jobs/j/delete', { kind: 'unknown', thingName: 't' }],
    ['$aws/things/t/jobs/j/namespace-/get', { kind: 'unknown' }],
    ['$aws/things/t/shadow/update', { kind: 'other' }],
    ['telemetry/t', { kind: 'other' }],
  ])('%s', (topic, expected) => {
    expect(parseJobsTopic(topic)).toMatchObject(expected);
  });
});

const state = {
  pending: {
    IN_PROGRESS: [{ jobId: 'a', queuedAt: 1, startedAt: 2, lastUpdatedAt: 3, versionNumber: 2, executionNumber: 1 }],
    QUEUED: [...Array(12).keys()].map((i) => ({
      jobId: `q${i}`,
      queuedAt: 1,
      lastUpdatedAt: 1,
      versionNumber: 1,
      executionNumber: 1,
    })),
  },
  head: {
    jobId: 'a',
    thingName: 't',
    status: 'IN_PROGRESS',
    queuedAt: 1,
    startedAt: 2,
    lastUpdatedAt: 3,
    versionNumber: 2,
    executionNumber: 1,
    jobDocument: '{"x":[1]}',
  },
};

describe('notify payloads (spec 5.6)', () => {
  it('lists at most 10, IN_PROGRESS first, lists omitted when empty', () => {
    const p = notifyPayload(state, 100) as { jobs: { IN_PROGRESS: unknown[]; QUEUED: unknown[] } };
    expect(p.jobs.IN_PROGRESS).toHaveLength(1);
    expect(p.jobs.QUEUED).toHaveLength(9);
    expect(notifyPayload({ pending: {} }, 5)).toEqual({ timestamp: 5, jobs: {} });
  });

  it('notify-next carries the head with its document as an object, or the timestamp alone', () => {
    expect(notifyNextPayload(state, 7)).toEqual({
      timestamp: 7,
      execution: {
        jobId: 'a',
        status: 'IN_PROGRESS',
        queuedAt: 1,
        startedAt: 2,
        lastUpdatedAt: 3,
        versionNumber: 2,
        executionNumber: 1,
        jobDocument: { x: [1] },
      },
    });
    expect(notifyNextPayload({ pending: {} }, 7)).toEqual({ timestamp: 7 });
  });

  it('identifies the pending set regardless of status moves, and the head by job and execution', () => {
    const moved = {
      pending: { QUEUED: [...state.pending.IN_PROGRESS, ...state.pending.QUEUED] },
      head: { ...state.head, status: 'QUEUED' },
    };
    expect(pendingKey(moved)).toBe(pendingKey(state));
    expect(headKey(moved)).toBe(headKey(state));
    expect(headKey({ pending: {} })).toBe('');
  });
});

describe('JobsRequestHandler', () => {
  const clock = new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 0, 999));
  const calls: unknown[][] = [];
  const jobs = {
    async getPendingJobExecutions() {
      return { inProgressJobs: [], queuedJobs: [] };
    },
    async updateJobExecution(...args: unknown[]) {
      calls.push(args);
      throw new ServiceError('VersionConflict', 'version mismatch', {
        executionState: { status: 'IN_PROGRESS', versionNumber: 3 },
      });
    },
    async describeJobExecution() {
      throw new ServiceError('ResourceNotFound', 'nope', { executionState: { status: 'QUEUED' } });
    },
  } as unknown as DeviceJobsApi;
  const handler = new JobsRequestHandler({
    jobs: () => jobs,
    clock,
    logger: pino({ level: 'silent' }),
    limiter: new ThingRateLimiter(clock, { burst: 2, perSecond: 1 }),
  });
  const handle = (topic: string, payload: string) => {
    const parsed = parseJobsTopic(topic);
    if (parsed.kind === 'other' || parsed.kind === 'service-only') throw new Error('not a request');
    return handler.handle(topic, parsed, Buffer.from(payload), handler.admit(parsed.thingName));
  };

  it('passes only the operation members to the service and maps errors to MQTT codes with executionState', async () => {
    const reply = await handle(
      '$aws/things/t/jobs/j/update',
      JSON.stringify({ status: 'SUCCEEDED', expectedVersion: '2', clientToken: 'c', junk: 1 }),
    );
    expect(calls[0]).toEqual(['t', 'j', { status: 'SUCCEEDED', expectedVersion: '2' }, undefined]);
    expect(reply).toEqual({
      topic: '$aws/things/t/jobs/j/update/rejected',
      payload: {
        code: 'VersionMismatch',
        message: 'version mismatch',
        clientToken: 'c',
        timestamp: 1893456000,
        executionState: { status: 'IN_PROGRESS', versionNumber: 3 },
      },
    });
    // Only InvalidStateTransition and VersionMismatch carry the state.
    const notFound = await handle('$aws/things/t/jobs/j/get', '{}');
    expect(notFound.payload).not.toHaveProperty('executionState');
  });

  it('throttles per thing with a token bucket on the clock', async () => {
    const other = async () => (await handle('$aws/things/rl/jobs/get', '{}')).topic;
    expect(await other()).toBe('$aws/things/rl/jobs/get/accepted');
    expect(await other()).toBe('$aws/things/rl/jobs/get/accepted');
    expect((await handle('$aws/things/rl/jobs/get', '{"clientToken":"x"}')).payload).toMatchObject({
      code: 'RequestThrottled',
      clientToken: 'x',
    });
    clock.advance(1000);
    expect(await other()).toBe('$aws/things/rl/jobs/get/accepted');
  });

  it('rejects a non-string clientToken without echoing it, and bytes that are not JSON as InvalidJson', async () => {
    const reply = await handle('$aws/things/u/jobs/get', '{"clientToken":5}');
    expect(reply.payload).toMatchObject({ code: 'InvalidRequest' });
    expect(reply.payload).not.toHaveProperty('clientToken');
    const parsed = parseJobsTopic('$aws/things/u/jobs/get');
    if (parsed.kind !== 'request') throw new Error('unexpected');
    const bad = await handler.handle('$aws/things/u/jobs/get', parsed, Buffer.from([0x7b, 0xff, 0x7d]), true);
    expect(bad.payload).toMatchObject({ code: 'InvalidJson' });
  });
});
