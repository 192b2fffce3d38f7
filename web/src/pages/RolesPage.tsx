import { useState, type FormEvent } from 'react';
import { enc, post, put } from '../api/client';
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
  const buckets = useApi<{ buckets: { name: string }[] }>('/buckets');
  const [readBucket, setReadBucket] = useState('');
  const create = useAction(async () => {
    const roleName = name.trim();
    const made = await post('/roles', { roleName, assumeRolePolicyDocument: trust });
    // The second half of a download role: without it every presigned URL is refused.
    if (readBucket !== '') {
      const { permission } = await roleTemplates(readBucket);
      await put(`/roles/${enc(roleName)}/policies/${enc(`read-${readBucket}`)}`, { policyDocument: permission });
    }
    return made;
  });
  const useJobsTrust = async (): Promise<void> => setTrust((await roleTemplates()).trust);
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if ((await create.run()) !== undefined) {
      setName('');
      setTrust('');
      setReadBucket('');
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
        <Field
          label="Allow reading the files of bucket (optional)"
          hint="A role that presigns download URLs needs both: the jobs trust policy above and permission to read the files. You can add or edit permission policies later on the role's page."
        >
          {(a) => (
            <select {...a} value={readBucket} onChange={(e) => setReadBucket(e.target.value)}>
              <option value="">No bucket</option>
              {buckets.data?.buckets.map((b) => (
                <option key={b.name} value={b.name}>
                  {b.name}
                </option>
              ))}
            </select>
          )}
        </Field>
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
