import type { ReactNode } from 'react';
import type { Session } from '../api/types';
import { href } from '../router';

const SECTIONS = [
  ['/jobs', 'Jobs'],
  ['/things', 'Things'],
  ['/groups', 'Groups'],
  ['/files', 'Files'],
  ['/signing', 'Signing'],
  ['/roles', 'Roles'],
] as const;

interface LayoutProps {
  session: Session;
  path: string;
  onSignOut: () => void;
  children: ReactNode;
}

/** Header with the sections, the account and sign-out; the page below. */
export function Layout({ session, path, onSignOut, children }: LayoutProps) {
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <a className="brand" href={href('/jobs')}>
          fleetjobs
        </a>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map(([to, label]) => (
              <li key={to}>
                <a href={href(to)} aria-current={path.startsWith(to) ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span className="muted">
            {session.username} · {session.account} · {session.region}
          </span>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
