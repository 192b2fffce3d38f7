import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import type { Clock } from '../clock.js';
import { renderTransfer } from './progress.js';

/**
 * The upload progress bar of `files upload`, on stderr: redrawn in place on a terminal, a line
 * per 10% otherwise (logs stay short).
 */
export class TransferBar {
  private lastTenth = -1;
  private readonly started: number;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly label: string,
    private readonly total: number,
    private readonly clock: Clock,
  ) {
    this.started = clock.now().getTime();
  }

  update(bytes: number): void {
    const line = renderTransfer(this.label, bytes, this.total, this.clock.now().getTime() - this.started);
    if (this.out.isTTY) {
      this.out.write(`\r${line}\x1b[K`);
      return;
    }
    const tenth = this.total === 0 ? 10 : Math.floor((10 * bytes) / this.total);
    if (tenth > this.lastTenth) {
      this.lastTenth = tenth;
      this.out.write(`${line}\n`);
    }
  }

  done(): void {
    if (this.out.isTTY) this.out.write('\n');
  }
}

/** A file (or a byte range of it) as a stream that reports each chunk read. */
export function countingStream(path: string, onBytes: (n: number) => void, range?: { start: number; end: number }) {
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
  return createReadStream(path, range).pipe(counter);
}
