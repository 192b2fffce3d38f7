import { describe, expect, it } from 'vitest';
import { StatementBatcher } from '../../src/store/statement-batcher.js';

/** The batcher behind the PostgreSQL device plane (issue 17): batching, isolation, no head-of-line blocking. */
describe('StatementBatcher', () => {
  it('runs the calls of one turn as one batch, in order', async () => {
    const calls: number[][] = [];
    const batcher = new StatementBatcher<number, number>(async (inputs) => {
      calls.push(inputs);
      return inputs.map((n) => n * 2);
    });
    expect(await Promise.all([1, 2, 3].map((n) => batcher.run(n)))).toEqual([2, 4, 6]);
    expect(calls).toEqual([[1, 2, 3]]);
  });

  it('retries a failed batch one input at a time, so only the bad input fails', async () => {
    const calls: number[][] = [];
    const batcher = new StatementBatcher<number, number>(async (inputs) => {
      calls.push(inputs);
      if (inputs.includes(13)) throw new Error('thirteen');
      return inputs.map((n) => n * 2);
    });
    const results = await Promise.allSettled([1, 2, 13, 4].map((n) => batcher.run(n)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      2,
      4,
      'thirteen',
      8,
    ]);
    expect(calls).toEqual([[1, 2, 13, 4], [1], [2], [13], [4]]);
  });

  it('fails a batch whose output does not match its input, rather than mis-assigning results', async () => {
    const batcher = new StatementBatcher<number, number>(async (inputs) => (inputs.length > 1 ? [1] : [inputs[0]!]));
    expect(await Promise.all([5, 6].map((n) => batcher.run(n)))).toEqual([5, 6]);
  });

  it('lets later calls run while a batch waits, up to maxInFlight batches', async () => {
    const gates: (() => void)[] = [];
    const started: number[][] = [];
    const batcher = new StatementBatcher<number, number>(
      (inputs) => {
        started.push(inputs);
        return new Promise((resolve) => gates.push(() => resolve(inputs)));
      },
      { maxInFlight: 2 },
    );
    const blocked = batcher.run(1);
    await new Promise((r) => setImmediate(r));
    const second = batcher.run(2);
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([[1], [2]]);
    // Two in flight: these wait, then go together as one batch.
    const waiting = [batcher.run(3), batcher.run(4)];
    await new Promise((r) => setImmediate(r));
    expect(started).toHaveLength(2);
    gates[1]!();
    expect(await second).toBe(2);
    // Its slot frees once its promise chain settles; the next batch starts at the next turn.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([[1], [2], [3, 4]]);
    gates[2]!();
    expect(await Promise.all(waiting)).toEqual([3, 4]);
    gates[0]!();
    expect(await blocked).toBe(1);
  });

  it('never puts inputs of two lanes in one batch, so a waiting lane holds up no other', async () => {
    const started: string[][] = [];
    let release!: () => void;
    const batcher = new StatementBatcher<string, string>(
      (inputs) => {
        started.push(inputs);
        if (inputs.includes('a1')) return new Promise((resolve) => (release = () => resolve(inputs)));
        return Promise.resolve(inputs);
      },
      { laneOf: (s) => s[0]!, maxInFlight: 1 },
    );
    const a = [batcher.run('a1'), batcher.run('a2')];
    const b = [batcher.run('b1'), batcher.run('b2')];
    expect(await Promise.all(b)).toEqual(['b1', 'b2']);
    const a3 = batcher.run('a3');
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([
      ['a1', 'a2'],
      ['b1', 'b2'],
    ]);
    release();
    expect(await Promise.all([...a, a3])).toEqual(['a1', 'a2', 'a3']);
    expect(started).toContainEqual(['a3']);
  });
});
