import { NAME_RULE, PATTERNS, type Validator } from '../validation.js';

export const MAX_ATTRIBUTES = 50;
export const MAX_GROUPS_PER_THING = 10;
/** Static groups (10) plus dynamic groups (AWS allows 100 dynamic groups a thing may be in). */
export const MAX_ALL_GROUPS_PER_THING = 110;
export const MAX_GROUP_DEPTH = 7;

export interface AttributePayload {
  attributes?: Record<string, string>;
  merge?: boolean;
}

export function checkAttributePayload(v: Validator, field: string, value: unknown): void {
  if (!v.object(field, value)) return;
  v.boolean(`${field}.merge`, value.merge);
  v.stringMap(`${field}.attributes`, value.attributes, {
    key: { min: 1, max: 128, pattern: PATTERNS.attributeName },
    value: { max: 800, pattern: PATTERNS.attributeValue },
    maxEntries: MAX_ATTRIBUTES,
  });
}

export function checkName(v: Validator, field: string, value: unknown, required = true): void {
  if (required && !v.required(field, value)) return;
  v.string(field, value, NAME_RULE);
}

/**
 * UpdateThing / UpdateThingGroup: an empty-string value removes the attribute, with or without
 * merge ("To remove an attribute, call UpdateThing with an empty attribute value"); without merge
 * the given attributes replace all others.
 */
export function mergeAttributes(
  current: Record<string, string>,
  payload: AttributePayload | undefined,
): Record<string, string> {
  if (!payload?.attributes) return current;
  const next = payload.merge ? { ...current } : {};
  for (const [k, val] of Object.entries(payload.attributes)) {
    if (val === '') delete next[k];
    else next[k] = val;
  }
  return next;
}
