import { useState, type FormEvent } from 'react';
import { del, enc, post, qs } from '../api/client';
import type { Page } from '../api/types';
import { useAction, useApi } from '../api/use-api';
import { ErrorMessage } from '../components/ErrorMessage';
import { Field } from '../components/Field';
import { Loading } from '../components/Loading';
import { Pager, usePager } from '../components/Pager';
import { href } from '../router';

interface Group {
  thingGroupName: string;
  thingGroupArn: string;
  thingGroupProperties?: { thingGroupDescription?: string };
  thingGroupMetadata?: { parentGroupName?: string };
}

/** A group: its member things (add and remove, paged) and its place in the hierarchy. */
export function GroupDetailPage({ groupName }: { groupName: string }) {
  const group = useApi<Group>(`/groups/${enc(groupName)}`);
  const pager = usePager();
  const members = useApi<{ things: string[] } & Page>(
    `/groups/${enc(groupName)}/things${qs({ nextToken: pager.token, maxResults: 50 })}`,
  );
  const [thing, setThing] = useState('');
  const add = useAction((thingName: string) => post(`/groups/${enc(groupName)}/things`, { thingName }));
  const remove = useAction((thingName: string) => del(`/groups/${enc(groupName)}/things/${enc(thingName)}`));
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if ((await add.run(thing.trim())) !== undefined) {
      setThing('');
      members.reload();
    }
  };

  if (group.error) return <ErrorMessage error={group.error} />;
  if (!group.data) return <Loading what={`group ${groupName}`} />;
  const parent = group.data.thingGroupMetadata?.parentGroupName;
  return (
    <section aria-labelledby="group-title">
      <nav className="crumbs" aria-label="Breadcrumb">
        <a href={href('/groups')}>Groups</a> / <span>{groupName}</span>
      </nav>
      <h1 id="group-title">{groupName}</h1>
      {group.data.thingGroupProperties?.thingGroupDescription && (
        <p>{group.data.thingGroupProperties.thingGroupDescription}</p>
      )}
      {parent && (
        <p>
          Inside <a href={href(`/groups/${enc(parent)}`)}>{parent}</a>
        </p>
      )}
      <form className="inline-form" onSubmit={submit} aria-label="Add a thing">
        <Field label="Add thing" error={add.error?.forField('thingName')}>
          {(a) => <input {...a} value={thing} onChange={(e) => setThing(e.target.value)} required />}
        </Field>
        <button type="submit" disabled={add.busy || thing.trim() === ''}>
          Add
        </button>
      </form>
      <ErrorMessage error={add.error ?? remove.error} onlyGeneral />
      <h2>Members</h2>
      <ErrorMessage error={members.error} />
      <ul className="list">
        {members.data?.things.length === 0 && <li className="muted">No things in this group.</li>}
        {members.data?.things.map((t) => (
          <li key={t}>
            <a href={href(`/things/${enc(t)}`)}>{t}</a>{' '}
            <button type="button" onClick={() => void remove.run(t).then((r) => r !== undefined && members.reload())}>
              Remove<span className="sr-only"> {t}</span>
            </button>
          </li>
        ))}
      </ul>
      <Pager
        page={pager.page}
        nextToken={members.data?.nextToken}
        onNext={pager.next}
        onPrevious={pager.previous}
        label="Members"
      />
    </section>
  );
}
