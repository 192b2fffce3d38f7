/**
 * better-sqlite3 answers synchronously, so a loop of awaited queries is one unbroken chain of
 * resolved promises. Long batch loops (outbox drains, purges, scans) call this between batches
 * so sockets (HTTP replies, MQTT) get their turn.
 */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
