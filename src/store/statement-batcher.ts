interface Waiting<I, O> {
  input: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

interface Lane<I, O> {
  queue: Waiting<I, O>[];
  scheduled: boolean;
  inFlight: number;
}

/**
 * Coalesces the calls made in one event-loop turn into one call of `runBatch` (issue 17, the
 * device plane on PostgreSQL): a thousand devices reporting at once cost a few dozen statements
 * instead of thousands, each of which took a socket write, a parse and a plan. `runBatch` must
 * return one output per input, in order, and be a single statement (all or nothing), so a batch
 * that fails can be retried one input at a time: then each caller gets its own result or error,
 * and one bad input (or a deadlock between two batches) never fails the others.
 *
 * Up to `maxInFlight` batches run at once per lane, so a batch that waits (on a job's lock held by
 * a long CancelJob, say) holds up only the requests in it; inputs that arrive while that many run
 * form the next batch. With `laneOf`, inputs of different lanes (jobs) never share a batch, so a
 * job whose lock is held exclusively holds up no other job's devices. The only delay batching adds
 * is the rest of the turn in which the first input arrived.
 */
export class StatementBatcher<I, O> {
  private readonly lanes = new Map<string, Lane<I, O>>();

  constructor(
    private readonly runBatch: (inputs: I[]) => Promise<O[]>,
    private readonly options: { maxBatch?: number; maxInFlight?: number; laneOf?: (input: I) => string } = {},
  ) {}

  run(input: I): Promise<O> {
    const key = this.options.laneOf?.(input) ?? '';
    let lane = this.lanes.get(key);
    if (!lane) this.lanes.set(key, (lane = { queue: [], scheduled: false, inFlight: 0 }));
    const l = lane;
    return new Promise<O>((resolve, reject) => {
      l.queue.push({ input, resolve, reject });
      this.schedule(key, l);
    });
  }

  private schedule(key: string, lane: Lane<I, O>): void {
    if (lane.scheduled) return;
    if (lane.queue.length === 0) {
      if (lane.inFlight === 0) this.lanes.delete(key);
      return;
    }
    if (lane.inFlight >= (this.options.maxInFlight ?? 3)) return;
    lane.scheduled = true;
    setImmediate(() => {
      lane.scheduled = false;
      this.start(key, lane);
    });
  }

  private start(key: string, lane: Lane<I, O>): void {
    while (lane.queue.length > 0 && lane.inFlight < (this.options.maxInFlight ?? 3)) {
      lane.inFlight++;
      void this.runOne(lane.queue.splice(0, this.options.maxBatch ?? 200)).finally(() => {
        lane.inFlight--;
        this.schedule(key, lane);
      });
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
