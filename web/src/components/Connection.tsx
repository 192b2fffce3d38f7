export interface Connectivity {
  connected: boolean;
  /** ms since the epoch of the last connect or disconnect. */
  timestamp: number;
  disconnectReason?: string;
}

/** A thing's connection in words: "connected since …", "last seen … (reason)", "never connected". */
export function connectionText(c: Connectivity | undefined): string {
  if (!c) return 'never connected';
  const at = new Date(c.timestamp).toLocaleString();
  return c.connected
    ? `connected since ${at}`
    : `last seen ${at}${c.disconnectReason ? ` (${c.disconnectReason})` : ''}`;
}

export function Connection({ connectivity }: { connectivity: Connectivity | undefined }) {
  return <span className={`connection ${connectivity?.connected ? 'on' : 'off'}`}>{connectionText(connectivity)}</span>;
}
