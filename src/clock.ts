/** The only place that reads wall time; domain code takes a Clock so tests can drive time. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock the tests (and the deterministic scheduler) move by hand. */
export class FakeClock implements Clock {
  private current: number;
  constructor(start: Date | number = Date.UTC(2030, 0, 1)) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  set(to: Date | number): void {
    this.current = typeof to === 'number' ? to : to.getTime();
  }
  advance(ms: number): Date {
    this.current += ms;
    return this.now();
  }
}

export const epochSeconds = (d: Date): number => Math.floor(d.getTime() / 1000);
/** spec 1.6: control-plane timestamps are epoch seconds, fractions allowed. */
export const epochSecondsFractional = (ms: number): number => ms / 1000;
