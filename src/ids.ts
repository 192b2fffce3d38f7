import { randomUUID, randomBytes } from 'node:crypto';

export const newUuid = (): string => randomUUID();
export const randomHex = (bytes: number): string => randomBytes(bytes).toString('hex');
