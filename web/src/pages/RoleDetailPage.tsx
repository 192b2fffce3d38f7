import { useEffect, useState } from 'react';
import { del, enc, put } from '../api/client';
import type { Session } from '../api/types';
import { useAction, useApi } from '../api/use-api';
import { ErrorMessage } from '../components/ErrorMessage';
import { JsonEditor, jsonProblem } from '../components/JsonEditor';
import { Loading } from '../components/Loading';
import { href } from '../router';
import { RolePolicyEditor } from './RolePolicyEditor';
import { roleTemplates } from './useRoleTemplates';

interface RoleDetail {
  role: { RoleName: string; Arn: string; AssumeRolePolicyDocument: string; Description?: string };
  inlinePolicies: { policyName: string; policyDocument: string }[];
}

const pretty = (text: string): string => {
  try {
    return JSON.stringify(JSON.parse(decodeURIComponent(text)), null, 2);
  } catch {
    return text;
  }
};

/** A role: its trust policy and its inline permission policies, edited as JSON. */
export function RoleDetailPage({ roleName, session }: { roleName: string; session: Session }) {
  const detail = useApi<RoleDetail>(`/roles/${enc(roleName)}`);
  const [trust, setTrust] = useState('');
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (detail.data) setTrust(pretty(detail.data.role.AssumeRolePolicyDocument));
  }, [detail.data]);
  const saveTrust = useAction(() => put(`/roles/${enc(roleName)}/trust-policy`, { policyDocument: trust }));
  const removePolicy = useAction((name: string) => del(`/roles/${enc(roleName)}/policies/${enc(name)}`));

  if (detail.error) return <ErrorMessage error={detail.error} />;
  if (!detail.data) return <Loading what={`role ${roleName}`} />;
  return (
    <section aria-labelledby="role-title">
      <nav className="crumbs" aria-label="Breadcrumb">
        <a href={href('/roles')}>Roles</a> / <span>{roleName}</span>
      </nav>
      <h1 id="role-title">{roleName}</h1>
      <p className="muted">{detail.data.role.Arn}</p>
      <div className="card">
        <h2>Trust policy</h2>
        <button type="button" onClick={() => void roleTemplates().then((t) => setTrust(t.trust))}>
          Use the jobs trust policy ({session.account}, {session.region})
        </button>
        <JsonEditor
          label="Who may assume this role"
          value={trust}
          onChange={(t) => {
            setTrust(t);
            setSaved(false);
          }}
          rows={14}
          serviceError={saveTrust.error?.forField('policyDocument')}
        />
        <button
          type="button"
          className="primary"
          disabled={saveTrust.busy || jsonProblem(trust) !== undefined}
          onClick={() => void saveTrust.run().then((r) => setSaved(r !== undefined))}
        >
          Save trust policy
        </button>
        {saved && <span role="status"> Saved.</span>}
        <ErrorMessage error={saveTrust.error} onlyGeneral />
      </div>
      <h2>Permission policies</h2>
      <ErrorMessage error={removePolicy.error} />
      {detail.data.inlinePolicies.map((p) => (
        <RolePolicyEditor
          key={p.policyName}
          roleName={roleName}
          policyName={p.policyName}
          initial={pretty(p.policyDocument)}
          onSaved={detail.reload}
          onDelete={() => void removePolicy.run(p.policyName).then((r) => r !== undefined && detail.reload())}
        />
      ))}
      <RolePolicyEditor roleName={roleName} initial="" onSaved={detail.reload} />
    </section>
  );
}
