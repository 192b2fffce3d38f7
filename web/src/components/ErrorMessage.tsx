import type { ApiError } from '../api/client';

/** An error of the service that names no field, shown where the action was started. */
export function ErrorMessage({ error, onlyGeneral = false }: { error: ApiError | undefined; onlyGeneral?: boolean }) {
  if (!error) return null;
  if (onlyGeneral && error.fieldErrors.length > 0) return null;
  return (
    <div className="error" role="alert">
      <strong>{error.code === 'NetworkError' ? 'No connection' : error.code.replace(/Exception$/, '')}:</strong>{' '}
      {error.message}
    </div>
  );
}
