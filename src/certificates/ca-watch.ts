import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { IdentityEvents } from './identity-events.js';

/**
 * Scaled out, a CA registered, activated or deactivated through one replica must change what the
 * TLS listeners of every replica trust. The replica that made the change tells its own listeners
 * at once (IdentityEvents); the others notice here, by polling the set of ACTIVE CA certificates
 * in the shared database, and tell theirs the same way.
 */
export function watchActiveCas(
  activeCaPems: () => Promise<string[]>,
  events: IdentityEvents,
  logger: Logger,
  intervalMs = 10_000,
): () => void {
  let last: string | undefined;
  const digest = (pems: string[]) =>
    createHash('sha256')
      .update([...pems].sort().join('\n'))
      .digest('hex');
  const check = async () => {
    try {
      const now = digest(await activeCaPems());
      if (last !== undefined && now !== last) events.emit({ caChanged: true });
      last = now;
    } catch (err) {
      logger.warn({ err }, 'cannot read the registered CAs; retrying');
    }
  };
  void check();
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
