import { Worker } from 'node:worker_threads';

/**
 * The process's highest RSS between two calls of `take`, sampled every `everyMs` from a worker
 * thread: the server's own event loop can be busy for a second at a time under load, and a
 * sampler on it would miss exactly the moments that matter. RSS is the whole process's, so the
 * worker's own few MB are in it too.
 */
export class RssSampler {
  private readonly peak = new BigInt64Array(new SharedArrayBuffer(8));
  private readonly worker: Worker;

  constructor(everyMs = 10) {
    this.worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       const peak = workerData.peak;
       setInterval(() => {
         const rss = BigInt(process.memoryUsage.rss());
         if (rss > Atomics.load(peak, 0)) Atomics.store(peak, 0, rss);
       }, workerData.everyMs);`,
      { eval: true, workerData: { peak: this.peak, everyMs } },
    );
    this.worker.unref();
  }

  /** The highest RSS seen since the last call (or since start), in bytes; then starts over. */
  take(): number {
    return Number(Atomics.exchange(this.peak, 0, 0n));
  }

  stop(): Promise<number> {
    return this.worker.terminate();
  }
}
