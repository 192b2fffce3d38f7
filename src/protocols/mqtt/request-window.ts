/**
 * How many device requests one broker works on at once (jobs and streams topics). A request that
 * arrives while the window is full waits as the packet it is, and its connection is not read
 * further until it is admitted: the rest of a request storm stays in the sockets' kernel buffers
 * and the devices' own queues, not in this process's heap. Measured (issue 17 item 4): without a
 * window every one of 20,000 devices' requests was in progress at once, about 11 KB of heap each.
 * Admission is first come, first served, so no device waits behind later arrivals.
 */
export class RequestWindow {
  private inProgress = 0;
  /** A FIFO without Array#shift (O(n) on a long queue): an array and the index of its head. */
  private waiting: ((() => void) | undefined)[] = [];
  private head = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`request window must be >= 1, got ${size}`);
  }

  /** Calls `start` now if the window has room, else once it has, after those waiting before it. */
  admit(start: () => void): void {
    if (this.inProgress < this.size) {
      this.inProgress++;
      start();
    } else {
      this.waiting.push(start);
    }
  }

  /** One admitted request is done: its place goes to the longest-waiting one. */
  release(): void {
    const next = this.waiting[this.head];
    if (next === undefined) {
      this.inProgress--;
      return;
    }
    this.waiting[this.head++] = undefined;
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    next();
  }

  get active(): number {
    return this.inProgress;
  }

  get queued(): number {
    return this.waiting.length - this.head;
  }
}
