import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';

/**
 * The process's soft limit on open files, read from /proc/self/limits (Linux); undefined where it
 * cannot be read. Every device connection holds one descriptor, so this caps the fleet one
 * replica can hold: a container's default (often 1,024 or 20,000) is reached long before memory.
 */
export function openFileLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  if (soft === undefined || soft === 'unlimited') return undefined;
  const n = Number(soft);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * Warns once when device connections pass 80% of the open-file limit, and again only after they
 * fell back under 70% (no log line per connection of a fleet hovering at the mark).
 */
export class ConnectionHeadroom {
  private warned = false;

  constructor(
    private readonly limit: number | undefined,
    private readonly logger: Logger,
  ) {}

  check(connections: number): void {
    if (this.limit === undefined) return;
    if (!this.warned && connections >= this.limit * 0.8) {
      this.warned = true;
      this.logger.warn(
        { connections, openFileLimit: this.limit },
        'device connections are near the open-file limit; raise LimitNOFILE / ulimit -n (each connection holds one)',
      );
    } else if (this.warned && connections < this.limit * 0.7) {
      this.warned = false;
    }
  }
}
