interface Waiting<I, O> {
  input: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Coalesces the calls made in one event-loop turn into one call of `runBatch` (issue 17, the
 * device plane on PostgreSQL): a thousand devices reporting at once cost a few dozen statements
 * instead of thousands, each of which took a socket write, a parse and a plan. `runBatch` must
 * return one output per input, in order, and be a single statement (all or nothing), so a batch
 * that fails can be retried one input at a time: then each caller gets its own result or error,
 * and one bad input (or a deadlock between two batches) never fails the others.
 *
 * Batches run one after another: inputs that arrive while one runs form the next. The only delay
 * this adds is the rest of the turn in which the first input arrived.
 */
export class StatementBatcher<I, O> {
  private queue: Waiting<I, O>[] = [];
  private running = false;

  constructor(
    private readonly runBatch: (inputs: I[]) => Promise<O[]>,
    private readonly maxBatch = 200,
  ) {}

  run(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (this.running) return;
      this.running = true;
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.runOne(this.queue.splice(0, this.maxBatch));
    } finally {
      this.running = false;
    }
  }

  private async runOne(batch: Waiting<I, O>[]): Promise<void> {
    try {
      const outputs = await this.runBatch(batch.map((w) => w.input));
      if (outputs.length !== batch.length) throw new Error(`a batch of ${batch.length} returned ${outputs.length}`);
      batch.forEach((w, i) => w.resolve(outputs[i]!));
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      // Each alone: concurrently, as they would have run without batching.
      await Promise.all(
        batch.map(async (w) => {
          try {
            const [output] = await this.runBatch([w.input]);
            w.resolve(output!);
          } catch (err) {
            w.reject(err);
          }
        }),
      );
    }
  }
}
