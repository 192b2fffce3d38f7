import { useState } from 'react';
import { post } from '../api/client';
import { useAction, useApi } from '../api/use-api';
import { ErrorMessage } from './ErrorMessage';
import { Field } from './Field';

/** Creates a signing profile (with a generated key) without leaving the page. */
export function NewProfileForm({ onCreated }: { onCreated: (profileName: string) => void }) {
  const platforms = useApi<{ platforms: { platformId: string; displayName?: string }[] }>('/signing/platforms');
  const [name, setName] = useState('');
  const [platformId, setPlatformId] = useState('AWSIoTDeviceManagement-SHA256-ECDSA');
  const create = useAction(() => post('/signing/profiles', { profileName: name.trim(), platformId }));
  const submit = async (): Promise<void> => {
    if ((await create.run()) !== undefined) onCreated(name.trim());
  };
  return (
    <fieldset>
      <legend>New signing profile</legend>
      <div className="row">
        <Field label="New profile name" hint="Letters, digits and _" error={create.error?.forField('profileName')}>
          {(a) => <input {...a} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Signing platform" error={create.error?.forField('platformId')}>
          {(a) => (
            <select {...a} value={platformId} onChange={(e) => setPlatformId(e.target.value)}>
              {platforms.data?.platforms.map((p) => (
                <option key={p.platformId} value={p.platformId}>
                  {p.displayName ?? p.platformId}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="button" onClick={() => void submit()} disabled={create.busy || name.trim() === ''}>
          Create profile
        </button>
      </div>
      <ErrorMessage error={create.error} onlyGeneral />
    </fieldset>
  );
}
