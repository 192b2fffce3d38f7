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
  /** The value as a number when it is a decimal number (range terms of the fleet index). */
  num: number | null;
}

export interface ThingConnectivityTable {
  thing_name: string;
  /** 1 connected, 0 disconnected. */
  connected: number;
  /** Milliseconds since the epoch of the last connect or disconnect. */
  timestamp: number;
  disconnect_reason: string | null;
}

export interface IndexingConfigTable {
  id: number;
  config: string;
  updated_at: number;
}

export interface ThingGroupsTable {
  name: string;
  id: string;
  parent_name: string | null;
  description: string | null;
  attributes: string;
  version: number;
  created_at: number;
  /** Dynamic groups only: the fleet-index query that decides the members. */
  query_string?: string | null;
  index_name?: string | null;
  query_version?: string | null;
}

export interface ThingGroupMembersTable {
  group_name: string;
  thing_name: string;
  added_at: number;
  /** 1 when a dynamic group's query put the thing there. */
  dynamic?: number;
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
    thing_connectivity: ThingConnectivityTable;
    indexing_config: IndexingConfigTable;
    thing_group_members: ThingGroupMembersTable;
    tags: TagsTable;
  }
}
