import { useEffect, useState } from 'react';
import { get, notifySignedOut } from '../../api/client';
import type { JobSnapshot } from '../../api/types';

const MAX_POINTS = 3600;

export interface LiveJob {
  /** Every reading since the page opened (oldest first), for the chart. */
  history: JobSnapshot[];
  latest: JobSnapshot | undefined;
  connected: boolean;
  deleted: boolean;
}

/** The job's counters, live, from the server-sent event stream. */
export function useJobEvents(jobId: string): LiveJob {
  const [history, setHistory] = useState<JobSnapshot[]>([]);
  const [connected, setConnected] = useState(false);
  const [deleted, setDeleted] = useState(false);

  useEffect(() => {
    // The chart's past, rebuilt by the server from the executions, so a reload does not empty it.
    let live = true;
    get<{ history: JobSnapshot[] }>(`/jobs/${encodeURIComponent(jobId)}/history`).then(
      (r) =>
        live &&
        setHistory((h) => {
          const first = h[0]?.at ?? Infinity;
          return [...r.history.filter((p) => p.at < first), ...h].slice(-MAX_POINTS);
        }),
      () => undefined, // no past: the chart starts with the live readings
    );
    const source = new EventSource(`/console/api/jobs/${encodeURIComponent(jobId)}/events`);
    source.addEventListener('open', () => setConnected(true));
    source.addEventListener('error', () => setConnected(false));
    source.addEventListener('job', (e) => {
      const snapshot = JSON.parse((e as MessageEvent<string>).data) as JobSnapshot;
      setHistory((h) => [...h.slice(-(MAX_POINTS - 1)), snapshot]);
    });
    source.addEventListener('deleted', () => {
      setDeleted(true);
      source.close();
      setConnected(false);
    });
    source.addEventListener('signed-out', () => {
      source.close();
      notifySignedOut();
    });
    return () => {
      live = false;
      source.close();
    };
  }, [jobId]);

  return { history, latest: history[history.length - 1], connected, deleted };
}
