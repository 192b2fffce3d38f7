import type { Partition } from '../arns.js';
import { ServiceError } from '../errors.js';

/**
 * A small catalogue of AWS managed job templates (spec 2.7, 3.3, 6.2). Their documents follow
 * the AWS IoT Device Client job-document schema and take `${aws:iot:parameter:<key>}`
 * placeholders, filled from CreateJob's documentParameters when the job is created.
 */
export interface ManagedParameter {
  key: string;
  description: string;
  regex: string;
  example: string;
  optional: boolean;
}

export interface ManagedTemplate {
  name: string;
  version: string;
  description: string;
  environments: string[];
  parameters: ManagedParameter[];
  document: string;
}

const runAsUser: ManagedParameter = {
  key: 'runAsUser',
  description: 'The user the job handler runs as; the Device Client user when empty.',
  regex: '^[a-zA-Z0-9._-]{0,256}$',
  example: 'root',
  optional: true,
};
const pathToHandler: ManagedParameter = {
  key: 'pathToHandler',
  description: 'The directory of the job handlers on the device; the working directory when empty.',
  regex: '^[^\\u0000-\\u001f]{0,4096}$',
  example: '/home/user/jobs/handlers',
  optional: true,
};

const step = (action: Record<string, unknown>): string => JSON.stringify({ version: '1.0', steps: [{ action }] });
const param = (key: string): string => `\${aws:iot:parameter:${key}}`;

export const MANAGED_TEMPLATES: readonly ManagedTemplate[] = [
  {
    name: 'AWS-Reboot',
    version: '1.0',
    description: 'A managed job template that reboots the device.',
    environments: ['LINUX'],
    parameters: [runAsUser, pathToHandler],
    document: step({
      name: 'Reboot',
      type: 'runHandler',
      input: { handler: 'reboot.sh', path: param('pathToHandler') },
      runAsUser: param('runAsUser'),
    }),
  },
  {
    name: 'AWS-Run-Command',
    version: '1.0',
    description: 'A managed job template that runs a shell command on the device.',
    environments: ['LINUX'],
    parameters: [
      {
        key: 'command',
        description: 'The command and its arguments, separated by commas (escape a comma inside an argument).',
        regex: '^[^\\u0000-\\u001f]{1,4096}$',
        example: 'ls,-l,/tmp',
        optional: false,
      },
      runAsUser,
    ],
    document: step({
      name: 'Run-Command',
      type: 'runCommand',
      input: { command: param('command') },
      runAsUser: param('runAsUser'),
    }),
  },
  {
    name: 'AWS-Download-File',
    version: '1.0',
    description: 'A managed job template that downloads a file to the device.',
    environments: ['LINUX'],
    parameters: [
      {
        key: 'downloadUrl',
        description: 'The URL of the file to download (an https URL or a presigned S3 URL placeholder).',
        regex: '^\\S{1,4096}$',
        example: 'https://example.com/firmware.bin',
        optional: false,
      },
      {
        key: 'filePath',
        description: 'Where on the device to store the file.',
        regex: '^[^\\u0000-\\u001f]{1,4096}$',
        example: '/tmp/firmware.bin',
        optional: false,
      },
      runAsUser,
      pathToHandler,
    ],
    document: step({
      name: 'Download-File',
      type: 'runHandler',
      input: {
        handler: 'download-file.sh',
        args: [param('downloadUrl'), param('filePath')],
        path: param('pathToHandler'),
      },
      runAsUser: param('runAsUser'),
    }),
  },
];

export const managedTemplateArn = (p: Partition, t: ManagedTemplate): string =>
  `arn:aws:iot:${p.region}::jobtemplate/${t.name}:${t.version}`;

/** `arn:aws:iot:<region>::jobtemplate/<name>:<version>`, or undefined when the ARN is not of that form. */
export function parseManagedArn(arn: string): { region: string; name: string; version: string } | undefined {
  const m = /^arn:aws:iot:([^:]*)::jobtemplate\/([^:/]+):([^:/]+)$/.exec(arn);
  return m ? { region: m[1]!, name: m[2]!, version: m[3]! } : undefined;
}

export function findManaged(name: string, version?: string): ManagedTemplate | undefined {
  return MANAGED_TEMPLATES.find((t) => t.name === name && (version === undefined || t.version === version));
}

const PLACEHOLDER = /\$\{aws:iot:parameter:([a-zA-Z0-9_-]+)\}/g;

/**
 * Fills the template's placeholders (spec 6.2). Values are JSON-escaped, because every
 * placeholder of this catalogue sits inside a JSON string; missing optional parameters become ''.
 */
export function substituteParameters(t: ManagedTemplate, given: Record<string, string>): string {
  const known = new Map(t.parameters.map((p) => [p.key, p]));
  const problems: string[] = [];
  for (const key of Object.keys(given)) {
    if (!known.has(key)) problems.push(`${t.name} has no parameter '${key}'`);
  }
  for (const p of t.parameters) {
    const value = given[p.key];
    if (value === undefined) {
      if (!p.optional) problems.push(`the parameter '${p.key}' is required (${p.description})`);
    } else if (!new RegExp(p.regex, 'u').test(value)) {
      problems.push(`the parameter '${p.key}' must match ${p.regex}`);
    }
  }
  if (problems.length > 0) {
    throw new ServiceError('InvalidRequest', `Invalid documentParameters for ${t.name}: ${problems.join('; ')}.`);
  }
  return t.document.replace(PLACEHOLDER, (_m, key: string) => JSON.stringify(given[key] ?? '').slice(1, -1));
}
