import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureCompiled, FLEETJOBS_BIN } from '../helpers/compiled.js';

/** Wall time of one process from spawn to exit, in milliseconds. */
function timed(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ ms: number; code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH, HOME: tmpdir(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, code, out }));
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The files `node bin/fleetjobs.js ARGS` imports, recorded by a module resolve hook. */
async function modulesLoadedBy(args: string[]): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fj-loaded-'));
  const log = join(dir, 'loaded.txt');
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}`,
  );
  writeFileSync(
    join(dir, 'register.mjs'),
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`,
  );
  writeFileSync(log, '');
  const run = await timed(['--import', pathToFileURL(join(dir, 'register.mjs')).href, FLEETJOBS_BIN, ...args]);
  expect(run.code).toBe(0);
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

const packageOf = (url: string): string | undefined => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
const packagesLoadedBy = async (args: string[]): Promise<Set<string>> =>
  new Set((await modulesLoadedBy(args)).map(packageOf).filter((p): p is string => p !== undefined));

describe('the compiled CLI starts fast (README "The fleetjobs CLI")', () => {
  beforeAll(ensureCompiled);

  it('runs compiled JavaScript from dist/, with no TypeScript loader', async () => {
    const loaded = await modulesLoadedBy(['--version']);
    expect(loaded.some((u) => u.includes('/dist/cli/main.js'))).toBe(true);
    expect(loaded.filter((u) => /\/src\/.*\.ts$|tsx|typescript/.test(u))).toEqual([]);
  });

  it('`--version` loads no server, SDK or agent code; an area loads only its own', async () => {
    expect([...(await packagesLoadedBy(['--version']))]).toEqual(['commander']);

    const things = await packagesLoadedBy(['things', 'list', '--help']);
    expect(things).toContain('@aws-sdk/client-iot');
    for (const heavy of [
      ...['fastify', 'aedes', 'kysely', 'better-sqlite3', 'pg', 'mqtt', 'pino', '@peculiar/x509'],
      ...['@aws-sdk/client-s3', '@aws-sdk/client-iam', '@aws-sdk/client-signer'],
    ])
      expect(things, heavy).not.toContain(heavy);
  });

  it('`fleetjobs --version` takes at most 8x a bare `node -e 0` (median of interleaved runs)', async () => {
    const bare: number[] = [];
    const version: number[] = [];
    // Interleaved, so that load from other processes falls on both series alike.
    for (let i = 0; i < 9; i++) {
      bare.push((await timed(['-e', '0'])).ms);
      const v = await timed([FLEETJOBS_BIN, '--version']);
      expect(v.out.trim()).toBe(
        (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string })
          .version,
      );
      version.push(v.ms);
    }
    const ratio = median(version) / median(bare);
    console.log(
      `fleetjobs --version: median ${median(version).toFixed(0)} ms; node -e 0: ${median(bare).toFixed(0)} ms; ratio ${ratio.toFixed(2)}`,
    );
    expect(ratio).toBeLessThanOrEqual(8);
  });
});
