/** The console API client: JSON over fetch, the CSRF header on every change, errors by field. */

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fieldErrors: FieldError[] = [],
  ) {
    super(message);
  }

  /** The service's message for a field (or a member of it), if it named one. */
  forField(field: string): string | undefined {
    return this.fieldErrors.find((f) => f.field === field || f.field.startsWith(`${field}.`))?.message;
  }
}

type Listener = () => void;
const signedOutListeners = new Set<Listener>();

/** Called when any request finds the session gone (401), so the app can show the sign-in page. */
export function onSignedOut(listener: Listener): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

/** Tells the app the session is gone (a live stream learnt it). */
export function notifySignedOut(): void {
  for (const l of signedOutListeners) l();
}

export function csrfToken(): string {
  const pair = document.cookie.split('; ').find((c) => c.startsWith('fj_csrf='));
  return pair ? decodeURIComponent(pair.slice('fj_csrf='.length)) : '';
}

async function toError(res: Response): Promise<ApiError> {
  let body: { code?: string; message?: string; fieldErrors?: FieldError[] } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(res.status, body.code ?? `HTTP ${res.status}`, body.message ?? res.statusText, body.fieldErrors);
}

export const SERVER_UNREACHABLE =
  'The fleetjobs server cannot be reached. Check that it is running and that this computer can reach it, then try again.';

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken();
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`/console/api${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  } catch {
    // fetch rejects only when no answer came at all (server down, network gone).
    throw new ApiError(0, 'NetworkError', SERVER_UNREACHABLE);
  }
  if (!res.ok) {
    const err = await toError(res);
    if (res.status === 401 && path !== '/session') for (const l of signedOutListeners) l();
    throw err;
  }
  return (await res.json()) as T;
}

export const get = <T>(path: string): Promise<T> => api<T>('GET', path);
export const post = <T>(path: string, body: unknown = {}): Promise<T> => api<T>('POST', path, body);
export const put = <T>(path: string, body: unknown = {}): Promise<T> => api<T>('PUT', path, body);
export const del = <T>(path: string): Promise<T> => api<T>('DELETE', path);

/** A query string from the defined, non-empty values. */
export function qs(params: Record<string, string | number | boolean | undefined>): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== '') as [string, string][];
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}`;
}

export const enc = encodeURIComponent;

/** Uploads a file as the raw request body, reporting progress (fetch cannot report upload progress). */
export function upload<T>(path: string, file: Blob, onProgress: (fraction: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `/console/api${path}`);
    xhr.setRequestHeader('x-csrf-token', csrfToken());
    xhr.setRequestHeader('content-type', file.type || 'application/octet-stream');
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onerror = () => reject(new ApiError(0, 'NetworkError', `The upload failed. ${SERVER_UNREACHABLE}`));
    xhr.onload = () => {
      let body: { code?: string; message?: string; fieldErrors?: FieldError[] } = {};
      try {
        body = JSON.parse(xhr.responseText) as typeof body;
      } catch {
        // keep the status
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(body as T);
      } else {
        if (xhr.status === 401) for (const l of signedOutListeners) l();
        reject(new ApiError(xhr.status, body.code ?? `HTTP ${xhr.status}`, body.message ?? '', body.fieldErrors));
      }
    };
    xhr.send(file);
  });
}
