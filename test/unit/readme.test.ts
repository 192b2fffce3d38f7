import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envName, OPTIONS } from '../../src/config.js';
import { cli } from '../helpers/cli.js';

const root = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

describe('README stays true', () => {
  it.each(OPTIONS.map((o) => [o.flag, o] as const))('documents --%s with its environment variable', (_flag, o) => {
    const row = readme.split('\n').find((l) => l.startsWith(`| \`--${o.flag}\``));
    expect(row, `README configuration table has no row for --${o.flag}`).toBeDefined();
    expect(row).toContain(`\`${envName(o.flag)}\``);
  });

  it('gives the two set-up commands that CI and npm use', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
    // The README's test command is the script that installs and starts what the suite needs.
    expect(readme).toMatch(/^\.ci\/run {2,}# the test suite/m);
    const ci = readFileSync(join(root, '.ci', 'run'), 'utf8');
    expect(ci).toMatch(/^npm test$/m);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toContain('serve');
  });

  it('says what --help says: the agent state dir, and every serve default', async () => {
    const agent = (await cli(['agent', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(agent).toContain('default <device-dir>/state, else ~/.fleetjobs-agent/state/<thing>');
    expect(readme.replace(/\s+/g, ' ')).toContain('default `<device-dir>/state` or `~/.fleetjobs-agent/state/<thing>`');
    const serve = (await cli(['serve', '--help'])).stdout;
    expect(serve).not.toContain('see help');
    for (const o of OPTIONS.filter((o) => o.def !== ''))
      expect(serve.replace(/\s+/g, ' ')).toContain(`default ${o.def})`);
  });
});
