import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, serverV8Flags } from '../../src/v8-flags.js';

describe('the V8 flags serve gives its own process (src/v8-flags.ts)', () => {
  it('bounds the heap growth between full GCs unless node was started with that flag', () => {
    expect(HEAP_GROWING_PERCENT).toBe(30);
    expect(serverV8Flags([])).toEqual(['--heap-growing-percent=30']);
    expect(serverV8Flags(['--expose-gc', '--max-old-space-size=2048'])).toEqual(['--heap-growing-percent=30']);
    for (const given of ['--heap-growing-percent=0', '--heap_growing_percent=50', '--heap-growing-percent']) {
      expect(serverV8Flags(['--expose-gc', given]), given).toEqual([]);
    }
  });

  it('names a flag this node knows, on its command line and set at run time', () => {
    const [flag] = serverV8Flags([]);
    const onCommandLine = spawnSync(process.execPath, [flag!, '-e', '0'], { encoding: 'utf8' });
    expect(onCommandLine.stderr).toBe('');
    expect(onCommandLine.status).toBe(0);
    // V8 reports a flag it does not know on stderr and carries on.
    const atRunTime = spawnSync(
      process.execPath,
      [
        '-e',
        `require('node:v8').setFlagsFromString(${JSON.stringify(flag)}); require('node:v8').setFlagsFromString('--no-such-flag-here')`,
      ],
      { encoding: 'utf8' },
    );
    expect(atRunTime.status).toBe(0);
    expect(atRunTime.stderr).toContain('--no-such-flag-here');
    expect(atRunTime.stderr).not.toContain(flag);
  });
});
