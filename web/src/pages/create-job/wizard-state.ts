import { useCallback, useEffect, useState } from 'react';
import { EMPTY_DRAFT, type Draft } from './draft';

/**
 * What the wizard keeps outside React: the draft in sessionStorage (so a link to another page, a
 * reload or the browser's Back button does not lose what was typed) and the step in the URL (so
 * each step is a history entry: #/jobs/new?step=2).
 */
const KEY = 'fleetjobs.create-job.draft';

function loadDraft(): Draft {
  try {
    const saved = sessionStorage.getItem(KEY);
    // Spread over the empty draft so a draft saved by an older console still has every member.
    return saved ? { ...EMPTY_DRAFT, ...(JSON.parse(saved) as Partial<Draft>) } : EMPTY_DRAFT;
  } catch {
    return EMPTY_DRAFT;
  }
}

/**
 * `fresh` (the wizard opened as #/jobs/new, e.g. from "Create job"): a new, empty draft, and the
 * URL becomes that of step 1 so that a reload or a Back to it resumes instead of starting again.
 */
export function useStoredDraft(fresh: boolean): [Draft, (change: Partial<Draft>) => void, () => void] {
  const [draft, setDraft] = useState<Draft>(() => {
    if (!fresh) return loadDraft();
    window.history.replaceState(window.history.state, '', `#${stepPath(0)}`);
    return EMPTY_DRAFT;
  });
  useEffect(() => {
    sessionStorage.setItem(KEY, JSON.stringify(draft));
  }, [draft]);
  const update = useCallback((change: Partial<Draft>) => setDraft((d) => ({ ...d, ...change })), []);
  const reset = useCallback(() => {
    sessionStorage.removeItem(KEY);
    setDraft(EMPTY_DRAFT);
  }, []);
  return [draft, update, reset];
}

/** Forgets the draft once its job exists. */
export const forgetDraft = (): void => sessionStorage.removeItem(KEY);

/** The step named in the wizard's URL (`?step=N`, counted from 1), 0 when there is none. */
export function stepInPath(path: string): number {
  const q = path.split('?')[1] ?? '';
  const n = Number(new URLSearchParams(q).get('step') ?? '1');
  return Number.isInteger(n) && n >= 1 ? n - 1 : 0;
}

export const stepPath = (step: number): string => `/jobs/new?step=${step + 1}`;
