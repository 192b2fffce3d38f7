import type { Principal } from './request.js';

export interface Credential {
  secretAccessKey: string;
  principal: Principal;
}

/** Who holds which access key. The admin key comes from config; IAM users may add more later. */
export interface CredentialStore {
  lookup(accessKeyId: string): Promise<Credential | undefined>;
}

export class StaticCredentialStore implements CredentialStore {
  private readonly entries = new Map<string, Credential>();

  add(accessKeyId: string, secretAccessKey: string, principal: Omit<Principal, 'accessKeyId'>): void {
    this.entries.set(accessKeyId, { secretAccessKey, principal: { ...principal, accessKeyId } });
  }

  async lookup(accessKeyId: string): Promise<Credential | undefined> {
    return this.entries.get(accessKeyId);
  }
}

/** Several stores, asked in order. */
export class ChainedCredentialStore implements CredentialStore {
  constructor(private readonly stores: CredentialStore[]) {}

  add(store: CredentialStore): void {
    this.stores.push(store);
  }

  async lookup(accessKeyId: string): Promise<Credential | undefined> {
    for (const s of this.stores) {
      const found = await s.lookup(accessKeyId);
      if (found) return found;
    }
    return undefined;
  }
}
