import { useState } from 'react';
import { enc, put } from '../api/client';
import { useAction } from '../api/use-api';
import { ErrorMessage } from '../components/ErrorMessage';
import { Field } from '../components/Field';
import { JsonEditor, jsonProblem } from '../components/JsonEditor';
import { roleTemplates } from './useRoleTemplates';

interface Props {
  roleName: string;
  /** Absent: a new policy, named here. */
  policyName?: string;
  initial: string;
  onSaved: () => void;
  onDelete?: () => void;
}

/** One inline policy as JSON (or a new one, with a template for reading a bucket's files). */
export function RolePolicyEditor({ roleName, policyName, initial, onSaved, onDelete }: Props) {
  const [name, setName] = useState(policyName ?? '');
  const [text, setText] = useState(initial);
  const [bucket, setBucket] = useState('');
  const save = useAction(() => put(`/roles/${enc(roleName)}/policies/${enc(name.trim())}`, { policyDocument: text }));
  const isNew = policyName === undefined;
  return (
    <div className="card">
      {isNew ? (
        <>
          <h3>New permission policy</h3>
          <Field label="Policy name" error={save.error?.forField('policyName')}>
            {(a) => <input {...a} value={name} onChange={(e) => setName(e.target.value)} />}
          </Field>
          <div className="inline-form">
            <Field label="Bucket the jobs may read">
              {(a) => <input {...a} value={bucket} onChange={(e) => setBucket(e.target.value)} />}
            </Field>
            <button
              type="button"
              disabled={bucket.trim() === ''}
              onClick={() => void roleTemplates(bucket.trim()).then((t) => setText(t.permission))}
            >
              Use the read-files template
            </button>
          </div>
        </>
      ) : (
        <h3>{policyName}</h3>
      )}
      <JsonEditor
        label={`Policy document${isNew ? '' : ` ${policyName}`}`}
        value={text}
        onChange={setText}
        rows={10}
        serviceError={save.error?.forField('policyDocument')}
      />
      <div className="actions">
        <button
          type="button"
          className="primary"
          disabled={save.busy || name.trim() === '' || jsonProblem(text) !== undefined}
          onClick={() =>
            void save.run().then((r) => {
              if (r === undefined) return;
              if (isNew) {
                setName('');
                setText('');
              }
              onSaved();
            })
          }
        >
          Save policy
        </button>
        {onDelete && (
          <button type="button" className="danger" onClick={onDelete}>
            Delete policy {policyName}
          </button>
        )}
      </div>
      <ErrorMessage error={save.error} onlyGeneral />
    </div>
  );
}
