import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseSignatureText, verifyFile, type SignatureBlock } from '../signing/verify.js';
import { localCommand, type CliContext } from './context.js';
import { CliError, UsageError } from './exit-codes.js';
import { parseOutputFormat } from './output.js';

interface VerifyOptions {
  signature: string;
  certificate: string;
  algorithm?: string;
  json?: boolean;
  output?: string;
}

/**
 * `fleetjobs verify FILE --signature ... --certificate ...`: checks a file against a code signature
 * (spec 6.4 block, a document entry's `codesign`, a base64 or DER signature) offline, with the
 * signer's certificate. Exit code 9 when the signature does not match.
 */
export function registerVerifyCommand(program: Command, ctx: CliContext): void {
  localCommand<VerifyOptions>(
    program,
    'verify <file>',
    'check a file against a code signature with the signing certificate (no server needed)',
    (c) =>
      c
        .requiredOption(
          '--signature <file|base64>',
          'signature block JSON (AWS Signer signed object, or an object with "codesign"), a DER signature file, or base64',
        )
        .requiredOption('--certificate <file>', 'the signing certificate, PEM (aws acm get-certificate)')
        .option(
          '--algorithm <name>',
          "SHA256withECDSA, SHA256withRSA, SHA1withRSA, sig-sha256-ecdsa... (default: the block's, else by key type)",
        )
        .option('--json', 'print the result as JSON')
        .option('-o, --output <format>', 'table or json (json is the same as --json)'),
    async ([file], opts) => {
      // `-o json` like every other command of the CLI.
      const o = { ...opts, json: opts.json === true || parseOutputFormat(opts.output) === 'json' };
      const path = resolve(ctx.io.cwd, file!);
      if (!existsSync(path)) throw new UsageError(`no such file: ${file}`);
      const certPath = resolve(ctx.io.cwd, o.certificate);
      if (!existsSync(certPath)) throw new UsageError(`--certificate: no such file: ${o.certificate}`);
      const result = await verifyFile({
        file: path,
        signature: readSignature(ctx.io.cwd, o.signature),
        certificatePem: readFileSync(certPath, 'utf8'),
        ...(o.algorithm !== undefined && { algorithm: o.algorithm }),
      });
      if (!result.ok) {
        if (o.json) ctx.io.stdout.write(`${JSON.stringify({ file, ok: false, reason: result.reason })}\n`);
        throw new CliError('badSignature', `${file}: ${result.reason}`);
      }
      ctx.io.stdout.write(
        o.json
          ? `${JSON.stringify({ file, ok: true, algorithm: result.algorithm, size: result.size, signer: result.subject })}\n`
          : `${file}: signature OK (${result.algorithm}, ${result.size} bytes, signed by ${result.subject.replace(/\n/g, ', ')})\n`,
      );
    },
  );
}

/** --signature names a file (JSON, base64 text or DER bytes) or is the base64 signature itself. */
function readSignature(cwd: string, value: string): SignatureBlock | string {
  const path = resolve(cwd, value);
  if (!existsSync(path)) {
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(value.trim())) return value.trim();
    throw new UsageError(`--signature: no such file, and not a base64 signature: ${value}`);
  }
  const bytes = readFileSync(path);
  const text = bytes.toString('utf8').trim();
  if (text.startsWith('{')) {
    try {
      return parseSignatureText(text);
    } catch (err) {
      throw new UsageError(`--signature ${value}: ${(err as Error).message}`);
    }
  }
  if (/^[A-Za-z0-9+/\s]+={0,2}$/.test(text)) return text.replace(/\s/g, '');
  // openssl dgst -sign writes the DER signature itself.
  return bytes.toString('base64');
}
