export interface IamRolesTable {
  /** Role names are unique regardless of case in IAM; name_key is the lower-cased name. */
  name_key: string;
  role_name: string;
  role_id: string;
  path: string;
  arn: string;
  /** The trust policy, JSON as given. */
  assume_role_policy: string;
  description: string | null;
  max_session_duration: number;
  /** JSON list of {Key, Value}. */
  tags: string;
  created_at: number;
}

export interface IamRolePoliciesTable {
  role_key: string;
  policy_name: string;
  document: string;
}

export interface IamPoliciesTable {
  arn: string;
  policy_name: string;
  policy_id: string;
  path: string;
  description: string | null;
  document: string;
  created_at: number;
  updated_at: number;
}

export interface IamRoleAttachmentsTable {
  role_key: string;
  policy_arn: string;
  attached_at: number;
}

export interface IamServerKeysTable {
  name: string;
  /** Sealed by SigningKeyring.encrypt (a base64 secret in clear before issue 14; sealed at first use). */
  secret: string;
  created_at: number;
}

declare module '../store/database.js' {
  interface Database {
    iam_roles: IamRolesTable;
    iam_role_policies: IamRolePoliciesTable;
    iam_policies: IamPoliciesTable;
    iam_role_attachments: IamRoleAttachmentsTable;
    iam_server_keys: IamServerKeysTable;
  }
}
