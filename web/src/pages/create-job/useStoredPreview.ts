import { useEffect, useState } from 'react';
import { ApiError, post } from '../../api/client';

/**
 * The document as CreateJob will store it, checked by the server the way CreateJob checks it
 * (signing profile, image version, presigning role) without signing or creating anything:
 * signatures read "(signed when the job is created)". Without code-sign placeholders it is the text.
 */
export function useStoredPreview(
  raw: string | undefined,
  input: Record<string, unknown>,
): { text?: string; error?: ApiError } {
  const [state, setState] = useState<{ text?: string; error?: ApiError }>({});
  const body = JSON.stringify(input);
  useEffect(() => {
    if (raw === undefined) return;
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
