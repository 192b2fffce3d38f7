import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PhaseReply, PhaseRequest } from './device-protocol.js';

export const wallNow = (): number => performance.timeOrigin + performance.now();

export interface PhaseResult {
  /** From the first process starting the phase to the last one finishing it (ms). */
  wallMs: number;
  latencies: number[];
  replies: PhaseReply[];
}

/**
 * Simulated devices in child processes (issue 17 item 5), so the server's event loop does only
 * the server's work. Each phase runs on every process at once and resolves when all have replied.
 */
export class DevicePool {
  private constructor(private readonly children: ChildProcess[]) {}

  /** `worker`: the script each child runs (default bench/lib/device-worker.ts; bench/streams.ts has its own). */
  static async start(
    processes: number,
    workerUrl = new URL('./device-worker.ts', import.meta.url),
  ): Promise<DevicePool> {
    const worker = fileURLToPath(workerUrl);
    const children = Array.from({ length: processes }, () =>
      fork(worker, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    const pool = new DevicePool(children);
    await Promise.all(children.map((c) => pool.next(c)));
    return pool;
  }

  get size(): number {
    return this.children.length;
  }

  /** The device processes' ids (for their CPU time, bench/lib/cpu.ts). */
  get pids(): number[] {
    return this.children.map((c) => c.pid!);
  }

  private next(child: ChildProcess): Promise<PhaseReply> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`device process exited with ${String(code)}`));
      child.once('exit', onExit);
      child.once('message', (reply: PhaseReply) => {
        child.off('exit', onExit);
        if (reply.error) reject(new Error(`${reply.phase}: ${reply.error}`));
        else resolve(reply);
      });
    });
  }

  /** Runs one phase; `each(i)` gives child i its request. */
  async phase(each: (i: number) => PhaseRequest | Record<string, unknown>): Promise<PhaseResult> {
    const replies = await Promise.all(
      this.children.map((c, i) => {
        const reply = this.next(c);
        c.send(each(i));
        return reply;
      }),
    );
    const startedAt = Math.min(...replies.map((r) => r.startedAt));
    const endedAt = Math.max(...replies.map((r) => r.endedAt));
    return { wallMs: endedAt - startedAt, latencies: replies.flatMap((r) => r.latencies), replies };
  }

  async stop(): Promise<void> {
    await this.phase(() => ({ phase: 'close' })).catch(() => undefined);
    for (const c of this.children) c.kill();
  }
}

/** Splits `items` into `n` nearly equal consecutive slices. */
export function split<T>(items: T[], n: number): T[][] {
  return Array.from({ length: n }, (_, i) =>
    items.slice(Math.floor((i * items.length) / n), Math.floor(((i + 1) * items.length) / n)),
  );
}

export const percentile = (xs: number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
