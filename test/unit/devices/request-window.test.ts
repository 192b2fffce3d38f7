import { describe, expect, it } from 'vitest';
import { RequestWindow } from '../../../src/protocols/mqtt/request-window.js';

describe('RequestWindow', () => {
  it('starts up to its size at once, then one per release, first come first served', () => {
    const w = new RequestWindow(2);
    const started: number[] = [];
    for (let i = 0; i < 5; i++) w.admit(() => started.push(i));
    expect(started).toEqual([0, 1]);
    expect({ active: w.active, queued: w.queued }).toEqual({ active: 2, queued: 3 });
    w.release();
    expect(started).toEqual([0, 1, 2]);
    w.release();
    w.release();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect({ active: w.active, queued: w.queued }).toEqual({ active: 2, queued: 0 });
    w.release();
    w.release();
    expect({ active: w.active, queued: w.queued }).toEqual({ active: 0, queued: 0 });
    w.admit(() => started.push(5));
    expect(started.at(-1)).toBe(5);
  });

  it('never has more in progress than its size over a long random run, and loses no one', () => {
    const w = new RequestWindow(3);
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let running = 0;
    let admitted = 0;
    let peak = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      w.admit(() => {
        running++;
        admitted++;
        peak = Math.max(peak, running);
      });
      while (running > 0 && random() < 0.4) {
        running--;
        w.release();
      }
    }
    while (running > 0) {
      running--;
      w.release();
    }
    expect(admitted).toBe(n);
    expect(peak).toBe(3);
    expect({ active: w.active, queued: w.queued }).toEqual({ active: 0, queued: 0 });
  });

  it('refuses a size below 1', () => {
    expect(() => new RequestWindow(0)).toThrow(RangeError);
  });
});
