import { EventEmitter } from 'node:events';

/**
 * What changed about device identity, told after the commit so the listeners can act at once:
 * the MQTT broker disconnects clients whose certificate stopped being ACTIVE or attached, and the
 * TLS listeners reload the CAs they trust. (Other replicas catch up by their periodic sweep.)
 */
export interface IdentityChange {
  certificateId?: string;
  thingName?: string;
  /** A registered CA was added, changed or removed. */
  caChanged?: boolean;
}

export class IdentityEvents {
  private readonly emitter = new EventEmitter();

  emit(change: IdentityChange): void {
    this.emitter.emit('change', change);
  }

  on(listener: (change: IdentityChange) => void): () => void {
    this.emitter.on('change', listener);
    return () => this.emitter.off('change', listener);
  }
}
