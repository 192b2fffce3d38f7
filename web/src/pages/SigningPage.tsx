import { useState, type FormEvent } from 'react';
import { enc, get, post } from '../api/client';
import { useAction, useApi } from '../api/use-api';
import { ErrorMessage } from '../components/ErrorMessage';
import { Field } from '../components/Field';
import { DEFAULT_PROFILE_TAG, type SigningProfile } from './create-job/signing-profiles';
import { SigningJobsList } from './SigningJobsList';

interface Platform {
  platformId: string;
  displayName?: string;
}

/** Saves a text as a file, the way a download link does. */
function saveText(fileName: string, text: string, type: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/** Code-signing profiles (Signer): create one with a generated key, mark the default, retire, certificates. */
export function SigningPage() {
  const profiles = useApi<{ profiles: SigningProfile[] }>('/signing/profiles');
  const platforms = useApi<{ platforms: Platform[] }>('/signing/platforms');
  const [name, setName] = useState('');
  const [platformId, setPlatformId] = useState('');
  const create = useAction(() => post('/signing/profiles', { profileName: name.trim(), platformId }));
  const change = useAction(async (profileName: string, what: 'default' | 'cancel') => {
    await post(`/signing/profiles/${enc(profileName)}/${what}`);
    profiles.reload();
  });
  const certificate = useAction(async (profileName: string) => {
    const c = await get<{ certificatePem: string }>(`/signing/profiles/${enc(profileName)}/certificate`);
    saveText(`${profileName}.pem`, c.certificatePem, 'application/x-pem-file');
  });
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
      <ErrorMessage error={profiles.error ?? change.error ?? certificate.error} />
      <p className="hint">
        A job that names no profile is signed with the default one (or the only Active one). Devices verify signatures
        with the profile's certificate.
      </p>
      <div className="table-wrap">
        <table>
          <caption className="sr-only">Signing profiles</caption>
          <thead>
            <tr>
              <th scope="col">Profile</th>
              <th scope="col">Platform</th>
              <th scope="col">Status</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {profiles.data?.profiles.length === 0 && (
              <tr>
                <td colSpan={4} className="muted">
                  No signing profiles yet.
                </td>
              </tr>
            )}
            {profiles.data?.profiles.map((p) => {
              const isDefault = p.tags?.[DEFAULT_PROFILE_TAG] === 'true';
              const active = p.status === 'Active';
              return (
                <tr key={p.profileName}>
                  <td>
                    {p.profileName} {isDefault && <span className="badge">default</span>}
                  </td>
                  <td>{p.platformId}</td>
                  <td>{p.status === 'Canceled' ? 'Retired' : p.status}</td>
                  <td className="row-actions">
                    <button
                      type="button"
                      aria-label={`Download the certificate of ${p.profileName}`}
                      onClick={() => void certificate.run(p.profileName)}
                    >
                      Certificate
                    </button>
                    {active && !isDefault && (
                      <button
                        type="button"
                        aria-label={`Make ${p.profileName} the default`}
                        disabled={change.busy}
                        onClick={() => void change.run(p.profileName, 'default')}
                      >
                        Make default
                      </button>
                    )}
                    {active && (
                      <button
                        type="button"
                        className="danger"
                        aria-label={`Retire ${p.profileName}`}
                        disabled={change.busy}
                        onClick={() => {
                          if (window.confirm(`Retire ${p.profileName}? It will sign nothing more.`))
                            void change.run(p.profileName, 'cancel');
                        }}
                      >
                        Retire
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <SigningJobsList />
    </section>
  );
}
