import type { SignatureBlock } from './verify.js';

/**
 * The job documents the reference agent runs: the AWS IoT Device Client schema 1.0 (spec 5.8)
 *   {"version":"1.0","includeStdOut":bool?,"steps":[{"action":{...}}],"finalStep":{"action":{...}}?}
 * with one fleetjobs addition the Device Client ignores: `files`, downloaded (and their code
 * signatures verified) before the first step runs:
 *   "files":[{"name":"fw.bin","url":"${aws:iot:s3-presigned-url:...}","sha256":"...","codesign":{...}}]
 * Handlers reach a file as `${file:fw.bin}` in their args or as env FLEETJOBS_FILE_FW_BIN.
 */
export const ACTION_TYPES = ['runHandler', 'runCommand'] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export interface Action {
  name: string;
  type: ActionType;
  /** runHandler: the handler's file name in an allow-listed directory. */
  handler?: string;
  /** runHandler: "default", absent, or a directory that must itself be allow-listed. */
  path?: string;
  args: string[];
  /** runCommand: the command and its arguments (Device Client: one comma-separated string). */
  command?: string[];
  runAsUser?: string;
  ignoreStepFailure: boolean;
  /** Lines of stderr tolerated before a step counts as failed; undefined: stderr is ignored. */
  allowStdErr?: number;
}

export interface FileSpec {
  name: string;
  url: string;
  sha256?: string;
  size?: number;
  codesign?: SignatureBlock;
}

export interface JobDocument {
  includeStdOut: boolean;
  files: FileSpec[];
  steps: Action[];
  finalStep?: Action;
}

/** A document the device refuses to run: the agent reports REJECTED with this reason. */
export class DocumentError extends Error {}

const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseJobDocument(raw: unknown): JobDocument {
  const doc = typeof raw === 'string' ? parseJsonText(raw) : raw;
  if (!isObject(doc)) throw new DocumentError('the job document is not a JSON object');
  if (doc.version !== '1.0') {
    throw new DocumentError(
      `unsupported job document: version must be "1.0" (the AWS IoT Device Client schema), got ${JSON.stringify(doc.version)}`,
    );
  }
  if (!Array.isArray(doc.steps) || doc.steps.length === 0) throw new DocumentError('steps must be a non-empty list');
  const steps = doc.steps.map((s, i) => parseStep(s, `steps[${i}]`));
  const finalStep = doc.finalStep === undefined ? undefined : parseStep(doc.finalStep, 'finalStep');
  const files = doc.files === undefined ? [] : parseFiles(doc.files);
  return {
    includeStdOut: doc.includeStdOut === true || doc.includeStdOut === 'true',
    files,
    steps,
    ...(finalStep && { finalStep }),
  };
}

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new DocumentError('the job document is not valid JSON');
  }
}

function parseStep(step: unknown, at: string): Action {
  const action = isObject(step) ? step.action : undefined;
  if (!isObject(action)) throw new DocumentError(`${at}.action must be an object`);
  const name = action.name;
  if (typeof name !== 'string' || name === '') throw new DocumentError(`${at}.action.name must be a non-empty string`);
  if (!(ACTION_TYPES as readonly unknown[]).includes(action.type)) {
    throw new DocumentError(`${at}.action.type must be one of ${ACTION_TYPES.join(', ')}`);
  }
  const input = action.input;
  if (!isObject(input)) throw new DocumentError(`${at}.action.input must be an object`);
  const out: Action = {
    name,
    type: action.type as ActionType,
    args: [],
    ignoreStepFailure: action.ignoreStepFailure === true || action.ignoreStepFailure === 'true',
  };
  if (action.runAsUser !== undefined && action.runAsUser !== '') {
    if (typeof action.runAsUser !== 'string' || !/^[a-z_][a-z0-9_-]*\$?$/i.test(action.runAsUser)) {
      throw new DocumentError(`${at}.action.runAsUser is not a user name`);
    }
    out.runAsUser = action.runAsUser;
  }
  if (action.allowStdErr !== undefined) {
    const n = Number(action.allowStdErr);
    if (!Number.isInteger(n) || n < 0) throw new DocumentError(`${at}.action.allowStdErr must be a whole number`);
    out.allowStdErr = n;
  }
  if (out.type === 'runHandler') {
    if (typeof input.handler !== 'string' || !SAFE_NAME.test(input.handler)) {
      throw new DocumentError(`${at}.action.input.handler must be a plain file name`);
    }
    out.handler = input.handler;
    if (input.path !== undefined) {
      if (typeof input.path !== 'string') throw new DocumentError(`${at}.action.input.path must be a string`);
      out.path = input.path;
    }
    out.args = stringList(input.args, `${at}.action.input.args`);
  } else {
    out.command = parseCommand(input.command, `${at}.action.input.command`);
  }
  return out;
}

function stringList(v: unknown, at: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((a) => typeof a !== 'string'))
    throw new DocumentError(`${at} must be a list of strings`);
  return v as string[];
}

/** Device Client runCommand: "cmd,arg1,arg2", `\,` for a literal comma; a list is accepted too. */
export function parseCommand(v: unknown, at = 'command'): string[] {
  let parts: string[];
  if (Array.isArray(v)) parts = stringList(v, at);
  else if (typeof v === 'string') {
    parts = [];
    let cur = '';
    for (let i = 0; i < v.length; i++) {
      const ch = v[i]!;
      if (ch === '\\' && v[i + 1] === ',') {
        cur += ',';
        i++;
      } else if (ch === ',') {
        parts.push(cur);
        cur = '';
      } else cur += ch;
    }
    parts.push(cur);
  } else throw new DocumentError(`${at} must be a string`);
  parts = parts.map((p) => p.trim());
  if (parts.length === 0 || parts[0] === '') throw new DocumentError(`${at} names no command`);
  return parts;
}

function parseFiles(v: unknown): FileSpec[] {
  if (!Array.isArray(v)) throw new DocumentError('files must be a list');
  const names = new Set<string>();
  return v.map((f, i) => {
    const at = `files[${i}]`;
    if (!isObject(f)) throw new DocumentError(`${at} must be an object`);
    if (typeof f.name !== 'string' || !SAFE_NAME.test(f.name))
      throw new DocumentError(`${at}.name must be a plain file name`);
    if (names.has(f.name)) throw new DocumentError(`${at}.name ${f.name} is used twice`);
    names.add(f.name);
    if (typeof f.url !== 'string' || !/^https?:\/\//.test(f.url)) {
      throw new DocumentError(`${at}.url must be an http(s) URL (was the presigned-URL placeholder filled in?)`);
    }
    const out: FileSpec = { name: f.name, url: f.url };
    if (f.sha256 !== undefined) {
      if (typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(f.sha256))
        throw new DocumentError(`${at}.sha256 must be 64 hex digits`);
      out.sha256 = f.sha256.toLowerCase();
    }
    if (f.size !== undefined) {
      if (typeof f.size !== 'number' || !Number.isInteger(f.size) || f.size < 0)
        throw new DocumentError(`${at}.size must be a whole number`);
      out.size = f.size;
    }
    const codesign = parseCodesign(f, at);
    if (codesign) out.codesign = codesign;
    return out;
  });
}

const FREERTOS_KEYS = ['sig-sha256-ecdsa', 'sig-sha1-rsa', 'sig-sha256-rsa'] as const;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * A file's signature, in each form CreateJob can make of `${aws:iot:code-sign-signature:...}`
 * (spec 6.3-6.5): under `codesign` the whole placeholder becomes the signature block (an object);
 * a placeholder inside a longer string, the base64 signature; the FreeRTOS form
 * `"sig-sha256-ecdsa": "${...}"` the base64 signature, its key naming the algorithm.
 */
function parseCodesign(f: Record<string, unknown>, at: string): SignatureBlock | undefined {
  const unfilled = (v: unknown): boolean => typeof v === 'string' && v.includes('${aws:iot:code-sign-signature:');
  const found: SignatureBlock[] = [];
  if (f.codesign !== undefined) {
    if (unfilled(f.codesign)) throw new DocumentError(`${at}.codesign is a code-sign placeholder nobody filled in`);
    if (typeof f.codesign === 'string' && BASE64.test(f.codesign)) found.push({ signature: f.codesign });
    else if (isObject(f.codesign) && typeof f.codesign.signature === 'string' && BASE64.test(f.codesign.signature)) {
      found.push(f.codesign as unknown as SignatureBlock);
    } else {
      throw new DocumentError(`${at}.codesign must be a signature block or a base64 signature`);
    }
  }
  for (const key of FREERTOS_KEYS) {
    const v = f[key];
    if (v === undefined) continue;
    if (unfilled(v)) throw new DocumentError(`${at}.${key} is a code-sign placeholder nobody filled in`);
    if (typeof v !== 'string' || !BASE64.test(v)) throw new DocumentError(`${at}.${key} must be a base64 signature`);
    found.push({ signature: v, signatureAlgorithm: key });
  }
  if (found.length > 1) throw new DocumentError(`${at} carries more than one signature`);
  return found[0];
}

/** Env name of a downloaded file: FLEETJOBS_FILE_<NAME> in upper case, other characters as `_`. */
export const fileEnvName = (name: string): string => `FLEETJOBS_FILE_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

/** `${file:NAME}` in a handler argument becomes the downloaded file's path. */
export function substituteFiles(arg: string, paths: Record<string, string>): string {
  return arg.replace(/\$\{file:([^}]+)\}/g, (whole, name: string) => {
    const p = paths[name];
    if (p === undefined) throw new DocumentError(`${whole}: the document has no file named ${name}`);
    return p;
  });
}
