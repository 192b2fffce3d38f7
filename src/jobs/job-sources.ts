import type { Arns } from '../arns.js';
import { ServiceError } from '../errors.js';
import type { Executor } from '../store/database.js';
import type { MaintenanceWindow } from './job-configs.js';
import { findTemplate } from './job-templates.repository.js';
import type { CreateJobInput, JobConfigs } from './jobs.schemas.js';
import { findManaged, parseManagedArn, substituteParameters } from './managed-templates.js';

/** Reads a documentSource (spec 2.7: fetched once, at CreateJob). The object store plugs in here. */
export type DocumentSourceFetcher = (documentSource: string) => Promise<string>;

export const noDocumentSources: DocumentSourceFetcher = (source) =>
  Promise.reject(
    new ServiceError(
      'InvalidRequest',
      `Cannot read documentSource ${source}: this server has no object store yet; pass the document inline.`,
    ),
  );

/** Where a new job's document and default configuration come from. */
export interface ResolvedSource {
  document: string;
  documentBeforeSubstitution?: string;
  documentSource?: string;
  jobTemplateArn?: string;
  /** Configuration the template supplies; CreateJob's own members override it (spec 3.3). */
  defaults: JobConfigs & { maintenanceWindows?: MaintenanceWindow[]; destinationPackageVersions?: string[] };
}

const parse = <T>(text: string | null): T | undefined => (text === null ? undefined : (JSON.parse(text) as T));

export async function resolveSource(
  db: Executor,
  arns: Arns,
  fetch: DocumentSourceFetcher,
  input: CreateJobInput,
): Promise<ResolvedSource> {
  const arn = input.jobTemplateArn;
  if (arn === undefined) {
    if (input.documentParameters !== undefined) {
      throw new ServiceError('InvalidRequest', 'documentParameters can be used only with an AWS managed job template.');
    }
    if (input.document !== undefined) return { document: input.document, defaults: {} };
    return { document: await fetch(input.documentSource!), documentSource: input.documentSource, defaults: {} };
  }
  const managed = parseManagedArn(arn);
  if (managed) {
    const t = managed.region === arns.partition.region ? findManaged(managed.name, managed.version) : undefined;
    if (!t) throw new ServiceError('ResourceNotFound', `Managed job template ${arn} does not exist.`);
    return {
      document: substituteParameters(t, input.documentParameters ?? {}),
      documentBeforeSubstitution: t.document,
      jobTemplateArn: arn,
      defaults: {},
    };
  }
  const id = arns.idOf(arn, 'jobtemplate', 'jobTemplateArn');
  const row = await findTemplate(db, id);
  if (!row) throw new ServiceError('ResourceNotFound', `Job template ${id} does not exist.`);
  if (input.documentParameters !== undefined) {
    throw new ServiceError(
      'InvalidRequest',
      'documentParameters can be used only with an AWS managed job template, not with a custom template.',
    );
  }
  const document = row.document ?? (await fetch(row.document_source!));
  return {
    document,
    ...(row.document_source !== null && { documentSource: row.document_source }),
    jobTemplateArn: arn,
    defaults: {
      presignedUrlConfig: parse(row.presigned_url_config),
      jobExecutionsRolloutConfig: parse(row.rollout_config),
      abortConfig: parse(row.abort_config),
      timeoutConfig: parse(row.timeout_config),
      jobExecutionsRetryConfig: parse(row.retry_config),
      maintenanceWindows: parse(row.maintenance_windows),
      destinationPackageVersions: parse(row.destination_package_versions),
    },
  };
}
