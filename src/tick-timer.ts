/**
 * The thin timer loop of the clock-driven workers (the rollout scheduler, the OTA worker): calls
 * `tick()` every `intervalMs`, skips a beat while the previous pass still runs, and reports a
 * failed pass without stopping. Returns the function that stops the timer.
 */
export function startTickTimer(
  tick: () => Promise<unknown>,
  intervalMs: number,
  onError: (err: unknown) => void,
): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    tick()
      .catch(onError)
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
