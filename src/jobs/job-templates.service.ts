import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import { TagsService, type Tag } from '../tags/tags.service.js';
import { decodeToken, toPage } from '../store/pagination.js';
import { DESCRIPTION_RULE, validate } from '../validation.js';
import { isUniqueViolation } from './db-errors.js';
import { checkMaintenanceWindows, checkPackageVersions, type MaintenanceWindow } from './job-configs.js';
import * as repo from './job-templates.repository.js';
import * as jobs from './jobs.repository.js';
import { checkConfigs, checkDocument, checkJobId, JOB_LIMITS, pageInput, type JobConfigs } from './jobs.schemas.js';
import { findManaged, managedTemplateArn, MANAGED_TEMPLATES, type ManagedTemplate } from './managed-templates.js';

export interface CreateJobTemplateInput extends JobConfigs {
  jobTemplateId: string;
  jobArn?: string;
  documentSource?: string;
  document?: string;
  description?: string;
  tags?: Tag[];
  maintenanceWindows?: MaintenanceWindow[];
  destinationPackageVersions?: string[];
}

const toJson = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));
const parse = (text: string | null): unknown => (text === null ? undefined : JSON.parse(text));
const checkTemplateId = (v: Parameters<Parameters<typeof validate>[0]>[0], id: unknown) =>
  checkJobId(v, id, 'jobTemplateId');

/** Custom job templates and the managed catalogue (spec 2.1, 2.3, 2.7 "Job templates"). */
export class JobTemplatesService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly tags: TagsService,
  ) {}

  private notFound(id: string): ServiceError {
    return new ServiceError('ResourceNotFound', `Job template ${id} does not exist.`);
  }

  async createJobTemplate(input: CreateJobTemplateInput) {
    validate((v) => {
      checkTemplateId(v, input.jobTemplateId);
      v.string('jobArn', input.jobArn, { max: 1600 });
      v.string('documentSource', input.documentSource, { min: 1, max: JOB_LIMITS.maxDocumentSource });
      v.string('document', input.document, { max: JOB_LIMITS.maxDocumentBytes });
      if (v.required('description', input.description)) v.string('description', input.description, DESCRIPTION_RULE);
      checkConfigs(v, input);
      checkMaintenanceWindows(v, 'maintenanceWindows', input.maintenanceWindows);
      checkPackageVersions(v, 'destinationPackageVersions', input.destinationPackageVersions);
    });
    if (input.tags !== undefined) TagsService.checkTags(input.tags);
    if (input.document !== undefined && input.documentSource !== undefined) {
      throw new ServiceError('InvalidRequest', 'Give either document or documentSource, not both.');
    }
    let base: jobs.JobRow | undefined;
    if (input.jobArn !== undefined) {
      const jobId = this.ctx.arns.idOf(input.jobArn, 'job', 'jobArn');
      base = await jobs.findJob(this.ctx.db, jobId);
      if (!base) throw new ServiceError('ResourceNotFound', `Job ${jobId} does not exist.`);
    } else if (input.document === undefined && input.documentSource === undefined) {
      throw new ServiceError('InvalidRequest', 'A job template needs a document, a documentSource or a jobArn.');
    }
    if (input.document !== undefined) checkDocument(input.document);
    const fromDoc = input.document !== undefined || input.documentSource !== undefined;
    const baseScheduling = parse(base?.scheduling_config ?? null) as { maintenanceWindows?: unknown } | undefined;
    const row: repo.TemplateRow = {
      template_id: input.jobTemplateId,
      description: input.description!,
      // spec 2.7: a jobArn copies the job; members given alongside override it.
      document: fromDoc ? (input.document ?? null) : (base?.document ?? null),
      document_source: fromDoc ? (input.documentSource ?? null) : null,
      presigned_url_config: toJson(input.presignedUrlConfig) ?? base?.presigned_url_config ?? null,
      rollout_config: toJson(input.jobExecutionsRolloutConfig) ?? base?.rollout_config ?? null,
      abort_config: toJson(input.abortConfig) ?? base?.abort_config ?? null,
      timeout_config: toJson(input.timeoutConfig) ?? base?.timeout_config ?? null,
      retry_config: toJson(input.jobExecutionsRetryConfig) ?? base?.retry_config ?? null,
      maintenance_windows: toJson(input.maintenanceWindows ?? baseScheduling?.maintenanceWindows),
      destination_package_versions:
        toJson(input.destinationPackageVersions) ?? base?.destination_package_versions ?? null,
      created_at: this.ctx.clock.now().getTime(),
    };
    const arn = this.ctx.arns.jobTemplate(input.jobTemplateId);
    const conflict = () =>
      new ServiceError('Conflict', `Job template ${input.jobTemplateId} already exists.`, {
        resourceId: input.jobTemplateId,
      });
    try {
      await this.ctx.db.transaction().execute(async (trx) => {
        if (await repo.findTemplate(trx, input.jobTemplateId)) throw conflict();
        await repo.insertTemplate(trx, row);
        if (input.tags && input.tags.length > 0) await this.tags.putTags(trx, arn, input.tags);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict();
      throw err;
    }
    return { jobTemplateArn: arn, jobTemplateId: input.jobTemplateId };
  }

  async describeJobTemplate(id: string) {
    validate((v) => checkTemplateId(v, id));
    const row = await repo.findTemplate(this.ctx.db, id);
    if (!row) throw this.notFound(id);
    const optional = {
      presignedUrlConfig: parse(row.presigned_url_config),
      jobExecutionsRolloutConfig: parse(row.rollout_config),
      abortConfig: parse(row.abort_config),
      timeoutConfig: parse(row.timeout_config),
      jobExecutionsRetryConfig: parse(row.retry_config),
      maintenanceWindows: parse(row.maintenance_windows),
      destinationPackageVersions: parse(row.destination_package_versions),
    };
    return {
      jobTemplateArn: this.ctx.arns.jobTemplate(row.template_id),
      jobTemplateId: row.template_id,
      description: row.description,
      ...(row.document_source !== null && { documentSource: row.document_source }),
      ...(row.document !== null && { document: row.document }),
      createdAt: row.created_at / 1000,
      ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    };
  }

  async listJobTemplates(input: { maxResults?: number; nextToken?: string }) {
    const limit = pageInput(input);
    const after = decodeToken(input.nextToken, 1)?.[0];
    const rows = await repo.listTemplates(this.ctx.db, after === undefined ? undefined : String(after), limit);
    const page = toPage(rows, limit, (r) => [r.template_id]);
    return {
      jobTemplates: page.items.map((r) => ({
        jobTemplateArn: this.ctx.arns.jobTemplate(r.template_id),
        jobTemplateId: r.template_id,
        description: r.description,
        createdAt: r.created_at / 1000,
      })),
      ...(page.nextToken !== undefined && { nextToken: page.nextToken }),
    };
  }

  async deleteJobTemplate(id: string): Promise<void> {
    validate((v) => checkTemplateId(v, id));
    await this.ctx.db.transaction().execute(async (trx) => {
      if (!(await repo.deleteTemplate(trx, id))) throw this.notFound(id);
      await this.tags.deleteAllTags(trx, this.ctx.arns.jobTemplate(id));
    });
  }

  private managedSummary(t: ManagedTemplate) {
    return {
      templateArn: managedTemplateArn(this.ctx.arns.partition, t),
      templateName: t.name,
      description: t.description,
      environments: t.environments,
      templateVersion: t.version,
    };
  }

  async describeManagedJobTemplate(name: string, templateVersion?: string) {
    validate((v) => {
      if (v.required('templateName', name)) v.string('templateName', name, { min: 1, max: 64 });
      v.string('templateVersion', templateVersion, { pattern: /^[1-9]+.[0-9]+$/ });
    });
    const t = findManaged(name, templateVersion);
    if (!t) throw new ServiceError('ResourceNotFound', `Managed job template ${name} does not exist.`);
    return {
      ...this.managedSummary(t),
      documentParameters: t.parameters.map((p) => ({ ...p })),
      document: t.document,
    };
  }

  async listManagedJobTemplates(input: { templateName?: string; maxResults?: number; nextToken?: string }) {
    validate((v) => v.string('templateName', input.templateName, { min: 1, max: 64 }));
    const limit = pageInput(input);
    const after = decodeToken(input.nextToken, 1)?.[0];
    const all = MANAGED_TEMPLATES.filter((t) => input.templateName === undefined || t.name === input.templateName)
      .filter((t) => after === undefined || t.name > String(after))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    if (input.templateName !== undefined && all.length === 0 && after === undefined) {
      throw new ServiceError('ResourceNotFound', `Managed job template ${input.templateName} does not exist.`);
    }
    const page = toPage(all, limit, (t) => [t.name]);
    return {
      managedJobTemplates: page.items.map((t) => this.managedSummary(t)),
      ...(page.nextToken !== undefined && { nextToken: page.nextToken }),
    };
  }
}
