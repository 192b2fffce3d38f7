import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { ConnectionHeadroom, openFileLimit } from '../../../src/protocols/mqtt/open-files.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            20000                40000                files
Max locked memory         8388608              8388608              bytes
`;

describe('open-file limit', () => {
  it('reads the soft limit from /proc/self/limits text', () => {
    expect(openFileLimit(LIMITS)).toBe(20000);
    expect(openFileLimit(LIMITS.replace('20000 ', 'unlimited'))).toBeUndefined();
    expect(openFileLimit('nothing here')).toBeUndefined();
    // This machine's own process has one.
    expect(openFileLimit()).toBeGreaterThan(0);
  });

  it('warns once past 80% and again only after falling under 70%', () => {
    const lines: unknown[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => lines.push(JSON.parse(l)) });
    const headroom = new ConnectionHeadroom(1000, logger);
    for (const n of [100, 799, 800, 850, 900, 750, 700]) headroom.check(n);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ connections: 800, openFileLimit: 1000 });
    headroom.check(699);
    headroom.check(820);
    expect(lines).toHaveLength(2);
    new ConnectionHeadroom(undefined, logger).check(1_000_000);
    expect(lines).toHaveLength(2);
  });
});
