import { useState, type FormEvent } from 'react';
import { ApiError, post } from '../api/client';
import type { Session } from '../api/types';
import { ErrorMessage } from '../components/ErrorMessage';
import { Field } from '../components/Field';

/** The only page reachable signed out. */
export function SignInPage({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await post<Session>('/session', { username, password }));
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'Error', String(err)));
      setBusy(false);
    }
  };

  return (
    <main id="main" className="signin">
      <form onSubmit={submit} className="card" aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to fleetjobs</h1>
        <Field label="User name" error={error?.forField('username')}>
          {(a) => (
            <input {...a} autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} />
          )}
        </Field>
        <Field label="Password" error={error?.forField('password')}>
          {(a) => (
            <input
              {...a}
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        <ErrorMessage error={error} onlyGeneral />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="hint">
          The admin password was printed once when the server first started, or is the value of
          FLEETJOBS_CONSOLE_PASSWORD.
        </p>
      </form>
    </main>
  );
}
