import { useState, type FormEvent } from 'react';
import { enc, post } from '../api/client';
import { useAction, useApi } from '../api/use-api';
import { ErrorMessage } from '../components/ErrorMessage';
import { Field } from '../components/Field';
import { Loading } from '../components/Loading';
import { href } from '../router';

interface Bucket {
  name: string;
  createdAt: string;
  versioning?: string;
}

/** Buckets of the object store; new ones are versioned so jobs can pin a file version. */
export function FilesPage() {
  const { data, error, loading, reload } = useApi<{ buckets: Bucket[] }>('/buckets');
  const [name, setName] = useState('');
  const create = useAction((bucket: string) => post('/buckets', { bucket, versioning: true }));
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if ((await create.run(name.trim())) !== undefined) {
      setName('');
      reload();
    }
  };
  return (
    <section aria-labelledby="files-title">
      <h1 id="files-title">Files</h1>
      <form className="inline-form card" onSubmit={submit} aria-label="Create a bucket">
        <Field
          label="New bucket"
          hint="3–63 lower-case letters, digits, . and -; versioning is switched on"
          error={create.error?.forField('bucket') ?? create.error?.message}
        >
          {(a) => <input {...a} value={name} onChange={(e) => setName(e.target.value)} required />}
        </Field>
        <button type="submit" className="primary" disabled={create.busy || name.trim() === ''}>
          Create bucket
        </button>
      </form>
      <ErrorMessage error={error} />
      {loading && !data && <Loading what="buckets" />}
      <ul className="list">
        {data?.buckets.length === 0 && <li className="muted">No buckets yet.</li>}
        {data?.buckets.map((b) => (
          <li key={b.name}>
            <a href={href(`/files/${enc(b.name)}`)}>{b.name}</a>{' '}
            <span className="muted small">created {new Date(b.createdAt).toLocaleString()}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
