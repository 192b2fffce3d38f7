import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../clock.js';
import type { SigningKeyring } from '../signing/keyring.js';
import type { Db, Dialect } from '../store/database.js';
import { LocalCa } from './local-ca.js';
import './shared-ca.tables.js';

const NAME = 'local';
/** Additional data the sealed key is bound to (a key row copied elsewhere does not decrypt). */
const BOUND_TO = 'fleetjobs local CA';

const same = (a: string, b: string): boolean => a.trim() === b.trim();

/**
 * The deployment's CA. Embedded (SQLite) it is the data dir's, as ever. On PostgreSQL it is the
 * database's, so every replica signs device certificates with, and presents a server certificate
 * issued by, the same CA, although each replica has a data dir of its own:
 * - the first replica to start stores its CA (the one already in its data dir, so a single server
 *   that is scaled out keeps its devices, else a new one) with the key sealed by the server key
 *   (FLEETJOBS_SIGNING_KEY); replicas racing at first start all end up with the stored one;
 * - each replica copies the stored CA into its data dir (key 0600), where LocalCa, the CLI and
 *   endpoints.json find it, and issues its own server certificate from it (LocalCa re-issues one
 *   that the CA did not sign). A replica started with another server key cannot unseal the CA
 *   and refuses to start, saying so.
 */
export async function openDeploymentCa(
  dataDir: string,
  store: { db: Db; dialect: Dialect },
  keyring: SigningKeyring,
): Promise<LocalCa> {
  if (store.dialect !== 'postgres') return LocalCa.open(dataDir);
  const stored = await load(store.db);
  if (stored) {
    materialize(dataDir, stored.certificate_pem, keyring.decrypt(stored.sealed_key, BOUND_TO));
    return LocalCa.open(dataDir);
  }
  const local = await LocalCa.open(dataDir);
  const keyPem = readFileSync(join(local.dir, 'ca-key.pem'), 'utf8');
  // The file as it is, so every replica's copy is byte for byte the winner's.
  const certificatePem = readFileSync(local.certificatePath, 'utf8');
  await store.db
    .insertInto('shared_ca')
    .values({
      name: NAME,
      certificate_pem: certificatePem,
      sealed_key: keyring.encrypt(keyPem, BOUND_TO),
      created_at: systemClock.now().getTime(),
    })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const winner = (await load(store.db))!;
  if (same(winner.certificate_pem, certificatePem)) return local;
  // Another replica stored its CA first.
  materialize(dataDir, winner.certificate_pem, keyring.decrypt(winner.sealed_key, BOUND_TO));
  return LocalCa.open(dataDir);
}

function load(db: Db) {
  return db.selectFrom('shared_ca').selectAll().where('name', '=', NAME).executeTakeFirst();
}

/** Writes the CA where LocalCa.open reads it, the key first and private (as LocalCa does). */
function materialize(dataDir: string, certificatePem: string, keyPem: string): void {
  const dir = join(dataDir, 'ca');
  const certPath = join(dir, 'ca-cert.pem');
  const keyPath = join(dir, 'ca-key.pem');
  if (existsSync(certPath) && existsSync(keyPath) && same(readFileSync(certPath, 'utf8'), certificatePem)) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(keyPath, keyPem, { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  writeFileSync(certPath, certificatePem);
}
