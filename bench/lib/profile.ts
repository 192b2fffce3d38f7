import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

/**
 * Runs `fn` under the V8 CPU profiler when BENCH_PROFILE names a file (a .cpuprofile that Chrome
 * DevTools or `npx tsx bench/lib/profile-summary.ts` reads); otherwise just runs it.
 */
export async function profiled<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const target = process.env.BENCH_PROFILE;
  if (!target) return fn();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(target.replace(/(\.cpuprofile)?$/, `.${label}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}
