import { useEffect, useState, type FormEvent } from 'react';
import { enc, post, qs } from '../api/client';
import type { Page, Thing } from '../api/types';
import { useAction, useApi } from '../api/use-api';
import { ErrorMessage } from '../components/ErrorMessage';
import { Field } from '../components/Field';
import { Pager, usePager } from '../components/Pager';
import { useDebounced } from '../components/useDebounced';
import { Connection } from '../components/Connection';
import { href } from '../router';

/** Things: search by name prefix, page, create. */
export function ThingsPage() {
  const [search, setSearch] = useState('');
  const prefix = useDebounced(search.trim());
  const pager = usePager();
  const { reset } = pager;
  useEffect(reset, [prefix, reset]);
  const { data, error, reload } = useApi<{ things: Thing[] } & Page>(
    `/things${qs({ prefix, nextToken: pager.token, maxResults: 50 })}`,
  );
  const [name, setName] = useState('');
  const create = useAction((thingName: string) => post('/things', { thingName }));
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if ((await create.run(name.trim())) !== undefined) {
      setName('');
      reload();
    }
  };

  return (
    <section aria-labelledby="things-title">
      <h1 id="things-title">Things</h1>
      <form className="inline-form card" onSubmit={submit} aria-label="Create a thing">
        <Field label="New thing name" hint="Letters, digits, :, _ and -" error={create.error?.forField('thingName')}>
          {(a) => <input {...a} value={name} onChange={(e) => setName(e.target.value)} required />}
        </Field>
        <button type="submit" className="primary" disabled={create.busy || name.trim() === ''}>
          Create thing
        </button>
        <ErrorMessage error={create.error} onlyGeneral />
      </form>
      <label className="search">
        <span>Name starts with</span>
        <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
      </label>
      <ErrorMessage error={error} />
      <div className="table-wrap">
        <table>
          <caption className="sr-only">Things</caption>
          <thead>
            <tr>
              <th scope="col">Thing</th>
              <th scope="col">Connection</th>
              <th scope="col">Attributes</th>
            </tr>
          </thead>
          <tbody>
            {data?.things.length === 0 && (
              <tr>
                <td colSpan={3} className="muted">
                  No things{prefix ? ' match' : ' yet'}.
                </td>
              </tr>
            )}
            {data?.things.map((t) => (
              <tr key={t.thingName}>
                <td>
                  <a href={href(`/things/${enc(t.thingName)}`)}>{t.thingName}</a>
                </td>
                <td>
                  <Connection connectivity={t.connectivity} />
                </td>
                <td className="muted">
                  {Object.entries(t.attributes ?? {})
                    .map(([k, v]) => `${k}=${v}`)
                    .join(', ')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager
        page={pager.page}
        nextToken={data?.nextToken}
        onNext={pager.next}
        onPrevious={pager.previous}
        label="Things"
      />
    </section>
  );
}
