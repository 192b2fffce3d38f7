import {
  DescribeJobTemplateCommand,
  DescribeThingCommand,
  DescribeThingGroupCommand,
  type Tag,
} from '@aws-sdk/client-iot';
import { readJson, readText } from './args.js';
import type { Session } from './context.js';
import { UsageError } from './exit-codes.js';
import { TARGET_SELECTIONS } from './job-options.js';

/** Turning `jobs create` flags into a CreateJob request (spec 2.3, 3.2, 3.3). */
export interface TargetFlags {
  targets?: string[];
  thing?: string[];
  group?: string[];
}

export interface DocumentFlags {
  document?: string;
  documentSource?: string;
  template?: string;
  documentParameters?: Record<string, string>;
}

const ARN = /^arn:[^:]+:iot:[^:]*:\d*:(thing|thinggroup)\/[^/]+$/;

/** Thing and group names become ARNs; asking the registry also checks they exist (exit 3 if not). */
export async function resolveTargets(s: Session, f: TargetFlags): Promise<string[]> {
  const out: string[] = [];
  for (const t of f.targets ?? []) {
    if (!ARN.test(t)) {
      throw new UsageError(
        `--targets '${t}' is not a thing or thing-group ARN (use --thing NAME or --group NAME for names)`,
      );
    }
    out.push(t);
  }
  for (const name of f.thing ?? []) {
    const r = await s.iot().send(new DescribeThingCommand({ thingName: name }));
    out.push(r.thingArn!);
  }
  for (const name of f.group ?? []) {
    const r = await s.iot().send(new DescribeThingGroupCommand({ thingGroupName: name }));
    out.push(r.thingGroupArn!);
  }
  return [...new Set(out)];
}

/** `s3://bucket/key` becomes the documented HTTPS form; https:// URLs pass unchanged (spec 2.7). */
export function documentSourceUrl(value: string, region: string): string {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(value);
  if (m) return `https://s3.${region}.amazonaws.com/${m[1]}/${m[2]}`;
  if (/^https:\/\/.+/.test(value)) return value;
  throw new UsageError(`--document-source '${value}' must be s3://bucket/key or an https:// S3 object URL`);
}

export interface DocumentMembers {
  document?: string;
  documentSource?: string;
  jobTemplateArn?: string;
  documentParameters?: Record<string, string>;
}

/** The job document from a file (or `-` for stdin, or inline JSON), an S3 object, or a template. */
export async function documentMembers(s: Session, f: DocumentFlags, required = true): Promise<DocumentMembers> {
  const given = [f.document, f.documentSource].filter((x) => x !== undefined).length;
  if (given > 1) throw new UsageError('give only one of --document and --document-source');
  if (given === 0 && f.template === undefined && required) {
    throw new UsageError('give the job document: --document FILE, --document-source s3://bucket/key or --template ID');
  }
  const out: DocumentMembers = {};
  if (f.document !== undefined) {
    const trimmed = f.document.trim();
    const text = trimmed.startsWith('{') ? f.document : readText(s.io.cwd, '--document', f.document);
    try {
      JSON.parse(text);
    } catch (err) {
      throw new UsageError(`--document is not valid JSON: ${(err as Error).message}`);
    }
    out.document = text;
  }
  if (f.documentSource !== undefined) out.documentSource = documentSourceUrl(f.documentSource, s.conn.region);
  if (f.template !== undefined) out.jobTemplateArn = await templateArn(s, f.template);
  if (f.documentParameters) out.documentParameters = f.documentParameters;
  return out;
}

async function templateArn(s: Session, idOrArn: string): Promise<string> {
  if (idOrArn.startsWith('arn:')) return idOrArn;
  const r = await s.iot().send(new DescribeJobTemplateCommand({ jobTemplateId: idOrArn }));
  return r.jobTemplateArn!;
}

export function targetSelection(value: string | undefined): (typeof TARGET_SELECTIONS)[number] | undefined {
  if (value === undefined) return undefined;
  const v = value.toUpperCase();
  if (!(TARGET_SELECTIONS as readonly string[]).includes(v)) {
    throw new UsageError(`--target-selection '${value}' must be one of ${TARGET_SELECTIONS.join(', ')}`);
  }
  return v as (typeof TARGET_SELECTIONS)[number];
}

export const tagsOf = (kv: Record<string, string> | undefined): Tag[] | undefined =>
  kv ? Object.entries(kv).map(([Key, Value]) => ({ Key, Value })) : undefined;

/** `--config FILE`: a whole CreateJob request as JSON (like the aws CLI's --cli-input-json); flags win. */
export function configFile(cwd: string, path: string | undefined): Record<string, unknown> {
  if (path === undefined) return {};
  const v = readJson(cwd, '--config', path);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError('--config must hold a JSON object');
  return v as Record<string, unknown>;
}
