import { useEffect, useState } from 'react';
import { ApiError, post } from '../../api/client';

/**
 * The document as CreateJob will store it: the server resolves the creation-time placeholders
 * (code-sign signatures: real signing jobs run) without creating the job. Without such placeholders it
 * is the text itself.
 */
export function useStoredPreview(
  raw: string | undefined,
  input: Record<string, unknown>,
): { text?: string; error?: ApiError } {
  const [state, setState] = useState<{ text?: string; error?: ApiError }>({});
  const body = JSON.stringify(input);
  useEffect(() => {
    if (raw === undefined) return;
    if (!raw.includes('${aws:iot:code-sign-signature:')) {
      setState({ text: raw });
      return;
    }
    let live = true;
    post<{ document: string }>('/jobs/preview-document', { ...(JSON.parse(body) as object), document: raw }).then(
      (r) => live && setState({ text: r.document }),
      (e: unknown) =>
        live && setState({ text: raw, error: e instanceof ApiError ? e : new ApiError(0, 'Error', String(e)) }),
    );
    return () => {
      live = false;
    };
  }, [raw, body]);
  return state;
}
