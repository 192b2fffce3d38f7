import { useEffect, useState } from 'react';
import { csrfToken, del, get, onSignedOut } from './api/client';
import type { Session } from './api/types';
import { Layout } from './components/Layout';
import { Loading } from './components/Loading';
import { Routes } from './Routes';
import { SignInPage } from './pages/SignInPage';
import { useRoute } from './router';

type State = { kind: 'checking' } | { kind: 'signed-out' } | { kind: 'signed-in'; session: Session };

/** Signed out, nothing but the sign-in page renders; signed in, the sections. */
export function App() {
  const [state, setState] = useState<State>({ kind: 'checking' });
  const path = useRoute();

  useEffect(() => {
    // No CSRF cookie: no session either, so do not even ask (a 401 would be logged by the browser).
    if (csrfToken() === '') {
      setState({ kind: 'signed-out' });
      return onSignedOut(() => setState({ kind: 'signed-out' }));
    }
    get<Session>('/session').then(
      (session) => setState({ kind: 'signed-in', session }),
      () => setState({ kind: 'signed-out' }),
    );
    return onSignedOut(() => setState({ kind: 'signed-out' }));
  }, []);

  useEffect(() => {
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [path]);

  if (state.kind === 'checking') return <Loading what="the console" />;
  if (state.kind === 'signed-out') {
    return <SignInPage onSignedIn={(session) => setState({ kind: 'signed-in', session })} />;
  }
  const signOut = (): void => {
    void del('/session').finally(() => setState({ kind: 'signed-out' }));
  };
  return (
    <Layout session={state.session} path={path} onSignOut={signOut}>
      <Routes path={path} session={state.session} />
    </Layout>
  );
}
