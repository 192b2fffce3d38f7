import { setFlagsFromString } from 'node:v8';

/**
 * How far V8's old generation may grow past what the last full GC left live before the next
 * one: 30% (V8's own "conservative" factor, 1.3). By default V8 picks the factor from its GC and
 * allocation speeds, and under the device request load (~120 KB allocated per request, most of it
 * Kysely's query building) it picks its maximum, 4.0. With 10,000 devices connected, the request
 * phase of bench/many-devices.ts took the heap from 195 to 575 MB and the RSS to 1,153 MB at its
 * peak that way; with 30% the heap stays under about 320 MB and the RSS under 850 MB, for the same
 * work and no more CPU per request (issue 17 item 4). The live heap is mostly per-connection
 * state, so the garbage V8 would let pile up grows with the fleet.
 */
export const HEAP_GROWING_PERCENT = 30;

const GIVEN = /^--heap[-_]growing[-_]percent(=|$)/;

/** The V8 flags `serve` gives its own process; a flag node was started with wins. */
export function serverV8Flags(execArgv: readonly string[] = process.execArgv): string[] {
  return execArgv.some((a) => GIVEN.test(a)) ? [] : [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`];
}

/**
 * Sets serverV8Flags() on this process. V8 reads this one whenever a full GC sets the next
 * limit, so setting it after start takes effect from the next GC on. Returns what it set.
 */
export function applyServerV8Flags(execArgv: readonly string[] = process.execArgv): string[] {
  const flags = serverV8Flags(execArgv);
  for (const flag of flags) setFlagsFromString(flag);
  return flags;
}
