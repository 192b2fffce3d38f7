import { useState } from 'react';
import { enc, post, put } from '../api/client';
import { useAction, useApi } from '../api/use-api';
import { roleTemplates } from '../pages/useRoleTemplates';
import { ErrorMessage } from './ErrorMessage';
import { Field } from './Field';

/**
 * Makes a role the jobs service can presign download URLs with, in one go: the jobs trust policy
 * and a read permission on one bucket (both are needed: spec 6.1; without the second, every URL
 * would be refused).
 */
export function NewDownloadRoleForm({
  bucket: initialBucket,
  onCreated,
}: {
  bucket?: string;
  onCreated: (role: { roleName: string; arn: string }) => void;
}) {
  const buckets = useApi<{ buckets: { name: string }[] }>('/buckets');
  const [name, setName] = useState('');
  const [bucket, setBucket] = useState(initialBucket ?? '');
  const create = useAction(async () => {
    const roleName = name.trim();
    const t = await roleTemplates(bucket);
    const made = await post<{ Arn: string }>('/roles', {
      roleName,
      assumeRolePolicyDocument: t.trust,
    });
    await put(`/roles/${enc(roleName)}/policies/${enc(`read-${bucket}`)}`, { policyDocument: t.permission });
    return { roleName, arn: made.Arn };
  });
  const submit = async (): Promise<void> => {
    const made = await create.run();
    if (made) {
      setName('');
      onCreated(made);
    }
  };
  return (
    <fieldset>
      <legend>New download role</legend>
      <div className="row">
        <Field label="New role name" error={create.error?.forField('roleName')}>
          {(a) => <input {...a} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="May read files of bucket">
          {(a) => (
            <select {...a} value={bucket} onChange={(e) => setBucket(e.target.value)}>
              <option value="">Choose…</option>
              {buckets.data?.buckets.map((b) => (
                <option key={b.name} value={b.name}>
                  {b.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="button" onClick={() => void submit()} disabled={create.busy || name.trim() === '' || !bucket}>
          Create role
        </button>
      </div>
      <p className="hint">It gets the jobs trust policy and a policy that allows reading that bucket's files.</p>
      <ErrorMessage error={create.error} onlyGeneral />
    </fieldset>
  );
}
