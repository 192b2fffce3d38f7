import { useEffect, useState, type FormEvent } from 'react';
import { enc, post, qs } from '../api/client';
import type { GroupRef, Page } from '../api/types';
import { useAction, useApi } from '../api/use-api';
import { ErrorMessage } from '../components/ErrorMessage';
import { Field } from '../components/Field';
import { Pager, usePager } from '../components/Pager';
import { useDebounced } from '../components/useDebounced';
import { href } from '../router';

/** Thing groups: search, page, create (optionally under a parent). */
export function GroupsPage() {
  const [search, setSearch] = useState('');
  const prefix = useDebounced(search.trim());
  const pager = usePager();
  const { reset } = pager;
  useEffect(reset, [prefix, reset]);
  const { data, error, reload } = useApi<{ thingGroups: GroupRef[] } & Page>(
    `/groups${qs({ prefix, nextToken: pager.token, maxResults: 50 })}`,
  );
  const [name, setName] = useState('');
  const [parent, setParent] = useState('');
  const create = useAction(() =>
    post('/groups', { thingGroupName: name.trim(), ...(parent.trim() !== '' && { parentGroupName: parent.trim() }) }),
  );
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if ((await create.run()) !== undefined) {
      setName('');
      setParent('');
      reload();
    }
  };

  return (
    <section aria-labelledby="groups-title">
      <h1 id="groups-title">Thing groups</h1>
      <form className="inline-form card" onSubmit={submit} aria-label="Create a group">
        <Field label="New group name" error={create.error?.forField('thingGroupName')}>
          {(a) => <input {...a} value={name} onChange={(e) => setName(e.target.value)} required />}
        </Field>
        <Field label="Parent group (optional)" error={create.error?.forField('parentGroupName')}>
          {(a) => <input {...a} value={parent} onChange={(e) => setParent(e.target.value)} />}
        </Field>
        <button type="submit" className="primary" disabled={create.busy || name.trim() === ''}>
          Create group
        </button>
        <ErrorMessage error={create.error} onlyGeneral />
      </form>
      <label className="search">
        <span>Name starts with</span>
        <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
      </label>
      <ErrorMessage error={error} />
      <ul className="list">
        {data?.thingGroups.length === 0 && <li className="muted">No groups{prefix ? ' match' : ' yet'}.</li>}
        {data?.thingGroups.map((g) => (
          <li key={g.groupName}>
            <a href={href(`/groups/${enc(g.groupName)}`)}>{g.groupName}</a>
          </li>
        ))}
      </ul>
      <Pager
        page={pager.page}
        nextToken={data?.nextToken}
        onNext={pager.next}
        onPrevious={pager.previous}
        label="Groups"
      />
    </section>
  );
}
