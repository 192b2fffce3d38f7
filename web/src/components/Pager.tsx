import { useCallback, useState } from 'react';

/** Keyset paging: a stack of the tokens of the pages seen, so Previous needs no offset. */
export function usePager(): {
  token: string | undefined;
  page: number;
  next: (token: string) => void;
  previous: () => void;
  reset: () => void;
} {
  const [stack, setStack] = useState<(string | undefined)[]>([undefined]);
  const next = useCallback((token: string) => setStack((s) => [...s, token]), []);
  const previous = useCallback(() => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)), []);
  const reset = useCallback(() => setStack([undefined]), []);
  return { token: stack[stack.length - 1], page: stack.length, next, previous, reset };
}

interface PagerProps {
  page: number;
  nextToken: string | undefined;
  onNext: (token: string) => void;
  onPrevious: () => void;
  label: string;
}

export function Pager({ page, nextToken, onNext, onPrevious, label }: PagerProps) {
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" onClick={onPrevious} disabled={page <= 1}>
        ← Previous
      </button>
      <span>Page {page}</span>
      <button type="button" onClick={() => nextToken && onNext(nextToken)} disabled={!nextToken}>
        Next →
      </button>
    </nav>
  );
}
