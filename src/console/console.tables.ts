/** The console's own tables: operators who sign in to the web console, and their sessions. */
export interface ConsoleUsersTable {
  username: string;
  /** `scrypt$N$r$p$salt$hash` (passwords.ts); never the password itself. */
  password_hash: string;
  created_at: number;
  updated_at: number;
}

export interface ConsoleSessionsTable {
  /** SHA-256 of the cookie value, so a copy of the database holds no usable session. */
  id_hash: string;
  username: string;
  /** Sent back by the browser in the X-CSRF-Token header on every change (double submit). */
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

declare module '../store/database.js' {
  interface Database {
    console_users: ConsoleUsersTable;
    console_sessions: ConsoleSessionsTable;
  }
}
