import { ServiceError } from '../errors.js';
import type { Tag } from '../tags/tags.service.js';
import { TagsService } from '../tags/tags.service.js';
import {
  DESCRIPTION_RULE,
  JOB_ID_RULE,
  MAX_RESULTS_RULE,
  NAME_RULE,
  PATTERNS,
  validate,
  type Validator,
} from '../validation.js';
import {
  checkAbortConfig,
  checkPackageVersions,
  checkPresignedUrlConfig,
  checkRetryConfig,
  checkRolloutConfig,
  checkSchedulingConfig,
  checkStagedRollout,
  checkTimeoutConfig,
  type AbortConfig,
  type PresignedUrlConfig,
  type RetryConfig,
  type RolloutConfig,
  type SchedulingConfig,
  type StagedRollout,
  type TimeoutConfig,
} from './job-configs.js';
import { TARGET_SELECTIONS, type TargetSelection } from './job-states.js';

export const JOB_LIMITS = {
  /** spec 7: targets per job, CreateJob and AssociateTargetsWithJob alike. */
  maxTargets: 100,
  /** spec 7: jobs in DELETION_IN_PROGRESS at once. */
  maxDeleting: 10,
  /** spec 3.1 / 7: 32 KB document. */
  maxDocumentBytes: 32768,
  maxDocumentSource: 1350,
  maxTargetArn: 2048,
} as const;

/** The configuration members shared by CreateJob, UpdateJob and the templates. */
export interface JobConfigs {
  presignedUrlConfig?: PresignedUrlConfig;
  jobExecutionsRolloutConfig?: RolloutConfig;
  abortConfig?: AbortConfig;
  timeoutConfig?: TimeoutConfig;
  jobExecutionsRetryConfig?: RetryConfig;
}

export interface CreateJobInput extends JobConfigs {
  jobId: string;
  targets?: string[];
  documentSource?: string;
  document?: string;
  description?: string;
  targetSelection?: TargetSelection;
  tags?: Tag[];
  namespaceId?: string;
  jobTemplateArn?: string;
  documentParameters?: Record<string, string>;
  schedulingConfig?: SchedulingConfig;
  destinationPackageVersions?: string[];
  stagedRollout?: StagedRollout;
  /** fleetjobs extension: the signing profile that fills code-sign placeholders (src/signing/job-document-signer.ts). */
  codeSigning?: { profileName?: string };
}

/** fleetjobs extension of UpdateJob: hold a rollout's releases, or go on (src/scheduler/rollout-controls.ts). */
export const ROLLOUT_ACTIONS = ['PAUSE', 'RESUME'] as const;
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];

export interface UpdateJobInput extends JobConfigs {
  jobId: string;
  description?: string;
  namespaceId?: string;
  stagedRollout?: StagedRollout;
  rolloutAction?: RolloutAction;
}

export function checkConfigs(v: Validator, input: JobConfigs): void {
  checkPresignedUrlConfig(v, 'presignedUrlConfig', input.presignedUrlConfig);
  checkRolloutConfig(v, 'jobExecutionsRolloutConfig', input.jobExecutionsRolloutConfig);
  checkAbortConfig(v, 'abortConfig', input.abortConfig);
  checkTimeoutConfig(v, 'timeoutConfig', input.timeoutConfig);
  checkRetryConfig(v, 'jobExecutionsRetryConfig', input.jobExecutionsRetryConfig);
}

export function checkJobId(v: Validator, jobId: unknown, field = 'jobId'): void {
  if (v.required(field, jobId)) v.string(field, jobId, JOB_ID_RULE);
}

export const checkNamespace = (v: Validator, value: unknown): boolean =>
  v.string('namespaceId', value, { pattern: PATTERNS.namespaceId });

export function checkTargets(v: Validator, targets: unknown): void {
  if (!v.required('targets', targets) || !v.list('targets', targets, { min: 1 })) return;
  targets.forEach((t, i) => v.string(`targets.${i + 1}.member`, t, { min: 1, max: JOB_LIMITS.maxTargetArn }));
}

export function checkCreateJob(input: CreateJobInput, nowMs: number): void {
  validate((v) => {
    checkJobId(v, input.jobId);
    checkTargets(v, input.targets);
    v.string('documentSource', input.documentSource, { min: 1, max: JOB_LIMITS.maxDocumentSource });
    v.string('document', input.document, { max: JOB_LIMITS.maxDocumentBytes });
    v.string('description', input.description, DESCRIPTION_RULE);
    v.string('targetSelection', input.targetSelection, { enum: TARGET_SELECTIONS });
    checkNamespace(v, input.namespaceId);
    v.string('jobTemplateArn', input.jobTemplateArn, { min: 1, max: 1600, pattern: PATTERNS.arn });
    v.stringMap('documentParameters', input.documentParameters, {
      key: { min: 1, max: 128, pattern: PATTERNS.jobId },
      value: { min: 1, max: 30720, pattern: PATTERNS.noControl },
    });
    checkConfigs(v, input);
    checkSchedulingConfig(v, 'schedulingConfig', input.schedulingConfig, nowMs);
    checkPackageVersions(v, 'destinationPackageVersions', input.destinationPackageVersions);
    checkStagedRollout(v, 'stagedRollout', input.stagedRollout);
  });
  if (input.tags !== undefined) TagsService.checkTags(input.tags);
  if (input.document !== undefined && input.documentSource !== undefined) {
    throw new ServiceError('InvalidRequest', 'Give either document or documentSource, not both.');
  }
  if (input.jobTemplateArn !== undefined && (input.document !== undefined || input.documentSource !== undefined)) {
    throw new ServiceError(
      'InvalidRequest',
      'A job created from a template takes its document from the template; do not give document or documentSource.',
    );
  }
  if (input.jobTemplateArn === undefined && input.document === undefined && input.documentSource === undefined) {
    throw new ServiceError('InvalidRequest', 'A job needs a document, a documentSource or a jobTemplateArn.');
  }
}

export function checkUpdateJob(input: UpdateJobInput): void {
  validate((v) => {
    checkJobId(v, input.jobId);
    v.string('description', input.description, DESCRIPTION_RULE);
    checkNamespace(v, input.namespaceId);
    checkConfigs(v, input);
    checkStagedRollout(v, 'stagedRollout', input.stagedRollout);
    v.string('rolloutAction', input.rolloutAction, { enum: ROLLOUT_ACTIONS });
  });
}

/** spec 3.1: UTF-8 JSON of at most 32 KB; devices get it as a JSON object over MQTT (spec 0.2). */
export function checkDocument(document: string, field = 'document'): void {
  const bytes = Buffer.byteLength(document, 'utf8');
  if (bytes > JOB_LIMITS.maxDocumentBytes) {
    throw new ServiceError(
      'InvalidRequest',
      `The job ${field} is ${bytes} bytes; the limit is ${JOB_LIMITS.maxDocumentBytes} bytes (32 KB).`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch (err) {
    throw new ServiceError('InvalidRequest', `The job ${field} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ServiceError('InvalidRequest', `The job ${field} must be a JSON object.`);
  }
}

export function pageInput(input: { maxResults?: number }): number {
  validate((v) => v.number('maxResults', input.maxResults, MAX_RESULTS_RULE));
  return input.maxResults ?? 50;
}

export const GROUP_ID_RULE = { min: 1, max: 128, pattern: /^[a-zA-Z0-9-]+$/ } as const;
export { NAME_RULE };
