/** The local CA shared by the replicas of one deployment (migration 0022). */
export interface SharedCaTable {
  /** 'local' (one CA per deployment). */
  name: string;
  certificate_pem: string;
  /** PKCS#8 PEM sealed by SigningKeyring.encrypt, bound to the name. */
  sealed_key: string;
  created_at: number;
}

declare module '../store/database.js' {
  interface Database {
    shared_ca: SharedCaTable;
  }
}
