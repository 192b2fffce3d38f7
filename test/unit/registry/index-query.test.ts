import { describe, expect, it } from 'vitest';
import { parseIndexQuery } from '../../../src/registry/index-query.js';

describe('fleet-index query parser', () => {
  it('reads terms, wildcards, ranges and existence', () => {
    expect(parseIndexQuery('thingName:pump-1')).toEqual({
      kind: 'term',
      field: 'thingName',
      match: { kind: 'eq', value: 'pump-1' },
    });
    expect(parseIndexQuery('thingName:pu?p-*')).toMatchObject({
      match: { kind: 'wildcard', pattern: 'pu?p-*', prefix: 'pu' },
    });
    expect(parseIndexQuery('attributes.fw<3.0')).toMatchObject({
      field: 'attributes.fw',
      match: { kind: 'range', upper: { value: '3.0', inclusive: false } },
    });
    expect(parseIndexQuery('attributes.n>=2')).toMatchObject({
      match: { kind: 'range', lower: { value: '2', inclusive: true } },
    });
    expect(parseIndexQuery('attributes.n:[1 TO 5}')).toMatchObject({
      match: { kind: 'range', lower: { value: '1', inclusive: true }, upper: { value: '5', inclusive: false } },
    });
    expect(parseIndexQuery('attributes.n:[* TO 5]')).toMatchObject({
      match: { kind: 'range', upper: { value: '5', inclusive: true } },
    });
    expect(parseIndexQuery('attributes.site:*')).toMatchObject({ match: { kind: 'exists' } });
    expect(parseIndexQuery('attributes.label:"a*b"')).toMatchObject({ match: { kind: 'eq', value: 'a*b' } });
  });

  it('gives NOT over AND over OR, a space meaning AND, and parentheses', () => {
    const q = parseIndexQuery('thingTypeName:pump attributes.model:x2 OR NOT (thingGroupNames:eu OR thingName:a*)');
    expect(q).toEqual({
      kind: 'or',
      children: [
        {
          kind: 'and',
          children: [
            { kind: 'term', field: 'thingTypeName', match: { kind: 'eq', value: 'pump' } },
            { kind: 'term', field: 'attributes.model', match: { kind: 'eq', value: 'x2' } },
          ],
        },
        {
          kind: 'not',
          child: {
            kind: 'or',
            children: [
              { kind: 'term', field: 'thingGroupNames', match: { kind: 'eq', value: 'eu' } },
              { kind: 'term', field: 'thingName', match: { kind: 'wildcard', pattern: 'a*', prefix: 'a' } },
            ],
          },
        },
      ],
    });
  });

  it('refuses what it cannot read with InvalidQuery', () => {
    for (const bad of [
      '',
      'pump',
      'shadow.reported.x:1',
      'thingName:',
      '(thingName:a',
      'thingName:a)',
      'thingName:a AND',
      'OR thingName:a',
      'attributes.n:[1 TO',
      'thingName:"open',
      'x'.repeat(1001),
    ]) {
      expect(() => parseIndexQuery(bad), bad).toThrow(expect.objectContaining({ code: 'InvalidQuery' }));
    }
  });
});
