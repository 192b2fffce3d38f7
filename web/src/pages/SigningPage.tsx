import { useState, type FormEvent } from 'react';
import { post } from '../api/client';
import { useAction, useApi } from '../api/use-api';
import { ErrorMessage } from '../components/ErrorMessage';
import { Field } from '../components/Field';

interface Profile {
  profileName: string;
  platformId?: string;
  status?: string;
  arn?: string;
}
interface Platform {
  platformId: string;
  displayName?: string;
}

/** Code-signing profiles (Signer): list and create one with a generated key. */
export function SigningPage() {
  const profiles = useApi<{ profiles: Profile[] }>('/signing/profiles');
  const platforms = useApi<{ platforms: Platform[] }>('/signing/platforms');
  const [name, setName] = useState('');
  const [platformId, setPlatformId] = useState('');
  const create = useAction(() => post('/signing/profiles', { profileName: name.trim(), platformId }));
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if ((await create.run()) !== undefined) {
      setName('');
      profiles.reload();
    }
  };
  return (
    <section aria-labelledby="signing-title">
      <h1 id="signing-title">Code-signing profiles</h1>
      <form className="inline-form card" onSubmit={submit} aria-label="Create a signing profile">
        <Field label="Profile name" hint="Letters, digits and _" error={create.error?.forField('profileName')}>
          {(a) => <input {...a} value={name} onChange={(e) => setName(e.target.value)} required />}
        </Field>
        <Field label="Platform" error={create.error?.forField('platformId')}>
          {(a) => (
            <select {...a} value={platformId} onChange={(e) => setPlatformId(e.target.value)} required>
              <option value="">Choose…</option>
              {platforms.data?.platforms.map((p) => (
                <option key={p.platformId} value={p.platformId}>
                  {p.displayName ?? p.platformId}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit" className="primary" disabled={create.busy || name.trim() === '' || platformId === ''}>
          Create profile
        </button>
        <p className="hint">The server generates the signing key; the private key never leaves it.</p>
        <ErrorMessage error={create.error} onlyGeneral />
      </form>
      <ErrorMessage error={profiles.error} />
      <div className="table-wrap">
        <table>
          <caption className="sr-only">Signing profiles</caption>
          <thead>
            <tr>
              <th scope="col">Profile</th>
              <th scope="col">Platform</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {profiles.data?.profiles.length === 0 && (
              <tr>
                <td colSpan={3} className="muted">
                  No signing profiles yet.
                </td>
              </tr>
            )}
            {profiles.data?.profiles.map((p) => (
              <tr key={p.profileName}>
                <td>{p.profileName}</td>
                <td>{p.platformId}</td>
                <td>{p.status}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
