import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

/**
 * Runs `fn` under the V8 CPU profiler when BENCH_PROFILE names a file (a .cpuprofile), and under
 * V8's sampling heap profiler when BENCH_HEAP_PROFILE names one (a .heapprofile that counts every
 * allocation, garbage included, so it shows what a request allocates, not only what it keeps).
 * Chrome DevTools or `npx tsx bench/lib/profile-summary.ts` reads either; otherwise just runs `fn`.
 */
export async function profiled<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const cpuTarget = process.env.BENCH_PROFILE;
  const heapTarget = process.env.BENCH_HEAP_PROFILE;
  if (!cpuTarget && !heapTarget) return fn();
  const session = new Session();
  session.connect();
  if (cpuTarget) {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  if (heapTarget) {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }
  try {
    return await fn();
  } finally {
    if (cpuTarget) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(cpuTarget.replace(/(\.cpuprofile)?$/, `.${label}.cpuprofile`), JSON.stringify(profile));
    }
    if (heapTarget) {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      writeFileSync(heapTarget.replace(/(\.heapprofile)?$/, `.${label}.heapprofile`), JSON.stringify(profile));
    }
    session.disconnect();
  }
}
