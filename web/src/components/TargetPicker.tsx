import { useState } from 'react';
import { qs } from '../api/client';
import type { GroupRef, Thing } from '../api/types';
import { useApi } from '../api/use-api';
import { ErrorMessage } from './ErrorMessage';
import { useDebounced } from './useDebounced';

interface Option {
  arn: string;
  name: string;
}

/** Search things or groups by name prefix; tick as many as needed. */
export function TargetPicker({ selected, onChange }: { selected: string[]; onChange: (arns: string[]) => void }) {
  const [kind, setKind] = useState<'groups' | 'things'>('groups');
  const [search, setSearch] = useState('');
  const prefix = useDebounced(search.trim());
  const { data, error } = useApi<{ things?: Thing[]; thingGroups?: GroupRef[] }>(
    `/${kind}${qs({ prefix, maxResults: 50 })}`,
  );
  const options: Option[] =
    kind === 'things'
      ? (data?.things ?? []).map((t) => ({ arn: t.thingArn, name: t.thingName }))
      : (data?.thingGroups ?? []).map((g) => ({ arn: g.groupArn, name: g.groupName }));
  const toggle = (arn: string, on: boolean): void =>
    onChange(on ? [...selected.filter((s) => s !== arn), arn] : selected.filter((s) => s !== arn));

  return (
    <fieldset className="picker">
      <legend>Find targets</legend>
      <div className="toolbar">
        <div role="radiogroup" aria-label="Search in" className="filters">
          {(['groups', 'things'] as const).map((k) => (
            <label key={k} className="chip">
              <input type="radio" name="target-kind" checked={kind === k} onChange={() => setKind(k)} />
              {k === 'groups' ? 'Thing groups' : 'Things'}
            </label>
          ))}
        </div>
        <label className="search">
          <span>Name starts with</span>
          <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
        </label>
      </div>
      <ErrorMessage error={error} />
      <ul className="options" aria-label={`Matching ${kind}`}>
        {options.length === 0 && <li className="muted">No {kind} match.</li>}
        {options.map((o) => (
          <li key={o.arn}>
            <label className="check">
              <input
                type="checkbox"
                checked={selected.includes(o.arn)}
                onChange={(e) => toggle(o.arn, e.target.checked)}
              />
              {o.name}
            </label>
          </li>
        ))}
      </ul>
    </fieldset>
  );
}
