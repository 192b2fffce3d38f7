import { useState, type FormEvent } from 'react';
import { enc, post } from '../api/client';
import type { Session } from '../api/types';
import { useAction, useApi } from '../api/use-api';
import { ErrorMessage } from '../components/ErrorMessage';
import { Field } from '../components/Field';
import { JsonEditor, jsonProblem } from '../components/JsonEditor';
import { href } from '../router';
import { roleTemplates } from './useRoleTemplates';

interface Role {
  RoleName: string;
  Arn: string;
  Description?: string;
}

/** IAM roles: list, and create one (the jobs trust policy is one click away). */
export function RolesPage({ session }: { session: Session }) {
  const roles = useApi<{ Roles: Role[] }>('/roles');
  const [name, setName] = useState('');
  const [trust, setTrust] = useState('');
  const create = useAction(() => post('/roles', { roleName: name.trim(), assumeRolePolicyDocument: trust }));
  const useJobsTrust = async (): Promise<void> => setTrust((await roleTemplates()).trust);
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if ((await create.run()) !== undefined) {
      setName('');
      setTrust('');
      roles.reload();
    }
  };
  return (
    <section aria-labelledby="roles-title">
      <h1 id="roles-title">Roles</h1>
      <p className="muted">
        The jobs service assumes a role to presign download URLs. Account {session.account}, region {session.region}.
      </p>
      <form className="card" onSubmit={submit} aria-label="Create a role">
        <h2>New role</h2>
        <Field label="Role name" error={create.error?.forField('roleName')}>
          {(a) => <input {...a} value={name} onChange={(e) => setName(e.target.value)} required />}
        </Field>
        <button type="button" onClick={() => void useJobsTrust()}>
          Use the jobs trust policy
        </button>
        <JsonEditor
          label="Trust policy"
          value={trust}
          onChange={setTrust}
          rows={14}
          serviceError={create.error?.forField('assumeRolePolicyDocument')}
        />
        <button
          type="submit"
          className="primary"
          disabled={create.busy || name.trim() === '' || jsonProblem(trust) !== undefined}
        >
          Create role
        </button>
        <ErrorMessage error={create.error} onlyGeneral />
      </form>
      <ErrorMessage error={roles.error} />
      <ul className="list">
        {roles.data?.Roles.length === 0 && <li className="muted">No roles yet.</li>}
        {roles.data?.Roles.map((r) => (
          <li key={r.RoleName}>
            <a href={href(`/roles/${enc(r.RoleName)}`)}>{r.RoleName}</a> <span className="muted small">{r.Arn}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
