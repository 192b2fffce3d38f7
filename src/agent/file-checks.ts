import { rmSync } from 'node:fs';
import { sha256File } from './download.js';
import type { FileSpec } from './job-document.js';
import type { CodeSignatureVerifier } from './verify.js';

/** What the agent checks of a downloaded file before any step may use it (spec 6.3, 6.4). */
export interface FileCheckOptions {
  requireSignature: boolean;
  verifier: CodeSignatureVerifier;
  signerCertificates: readonly string[];
}

export type FileCheck = { ok: true; signer?: string } | { ok: false; reason: string };

/** A file that fails its checksum or code signature is deleted, so nothing can run it. */
export async function checkFile(f: FileSpec, path: string, o: FileCheckOptions): Promise<FileCheck> {
  const refuse = (reason: string): FileCheck => {
    rmSync(path, { force: true });
    return { ok: false, reason };
  };
  if (f.sha256 !== undefined && (await sha256File(path)) !== f.sha256)
    return refuse(`${f.name}: sha256 does not match`);
  if (f.codesign === undefined) {
    return o.requireSignature ? refuse(`${f.name}: no code signature, and this device requires one`) : { ok: true };
  }
  const v = await o.verifier.verifyFile(path, f.codesign, o.signerCertificates);
  return v.ok
    ? { ok: true, signer: v.signer }
    : refuse(`code signature verification failed for ${f.name}: ${v.reason}`);
}

/** The download progress log: a line per 10%, and a status update at 50% and 100%. */
export class ProgressLog {
  private last = 0;

  constructor(
    private readonly line: (text: string) => void,
    private readonly milestone: (percent: number) => void,
  ) {}

  update(bytes: number, total: number | undefined): void {
    if (total === undefined || total === 0) return;
    const bucket = Math.floor((10 * bytes) / total) * 10;
    if (bucket <= this.last) return;
    this.last = bucket;
    this.line(`${bucket}% (${bytes}/${total} bytes)`);
    if (bucket % 50 === 0) this.milestone(bucket);
  }
}
