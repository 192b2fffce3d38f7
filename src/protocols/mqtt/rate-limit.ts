import type { Clock } from '../../clock.js';

export interface RateLimit {
  /** Requests a thing may make at once. */
  burst: number;
  /** Requests per second a thing may sustain. */
  perSecond: number;
}

export const DEFAULT_DEVICE_RATE_LIMIT: RateLimit = { burst: 100, perSecond: 50 };

/**
 * A token bucket per thing (spec 5.5 RequestThrottled): a device that floods its jobs topics is
 * answered RequestThrottled, which agents retry, instead of starving the other devices.
 */
export class ThingRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly limit: RateLimit = DEFAULT_DEVICE_RATE_LIMIT,
  ) {}

  take(thingName: string): boolean {
    const now = this.clock.now().getTime();
    const bucket = this.buckets.get(thingName) ?? { tokens: this.limit.burst, at: now };
    // A clock set back (tests move theirs) refills nothing rather than draining the bucket.
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + (elapsed / 1000) * this.limit.perSecond);
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.buckets.set(thingName, bucket);
    return allowed;
  }

  /** Forgets full buckets so the map does not grow with the fleet. */
  prune(): void {
    const now = this.clock.now().getTime();
    for (const [thing, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.limit.perSecond >= this.limit.burst) this.buckets.delete(thing);
    }
  }
}
