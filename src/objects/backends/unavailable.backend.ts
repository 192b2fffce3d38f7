import { ServiceError } from '../../errors.js';
import type { ObjectBackend } from './backend.js';

/** Stands in when services are built without an object backend (tools, unit tests): every use fails clearly. */
export class UnavailableBackend implements ObjectBackend {
  readonly kind = 'disk';
  private fail(): never {
    throw new ServiceError('ServiceUnavailable', 'No object backend is configured on this server.');
  }
  async put(): Promise<{ size: number }> {
    this.fail();
  }
  async get(): Promise<never> {
    this.fail();
  }
  async delete(): Promise<void> {
    this.fail();
  }
  async exists(): Promise<boolean> {
    this.fail();
  }
  async close(): Promise<void> {}
}
