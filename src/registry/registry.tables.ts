export interface ThingsTable {
  name: string;
  id: string;
  thing_type_name: string | null;
  billing_group_name: string | null;
  /** JSON object of string values. */
  attributes: string;
  version: number;
  created_at: number;
}

export interface ThingTypesTable {
  name: string;
  id: string;
  description: string | null;
  /** JSON array of attribute names. */
  searchable_attributes: string;
  /** Set while the type is deprecated (DeprecateThingType); null again after undoDeprecate. */
  deprecated_at: number | null;
  created_at: number;
}

export interface ThingAttributesTable {
  thing_name: string;
  name: string;
  value: string;
}

export interface ThingGroupsTable {
  name: string;
  id: string;
  parent_name: string | null;
  description: string | null;
  attributes: string;
  version: number;
  created_at: number;
}

export interface ThingGroupMembersTable {
  group_name: string;
  thing_name: string;
  added_at: number;
}

export interface TagsTable {
  resource_arn: string;
  key: string;
  value: string;
}

declare module '../store/database.js' {
  interface Database {
    things: ThingsTable;
    thing_types: ThingTypesTable;
    thing_attributes: ThingAttributesTable;
    thing_groups: ThingGroupsTable;
    thing_group_members: ThingGroupMembersTable;
    tags: TagsTable;
  }
}
