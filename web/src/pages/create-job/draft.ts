/**
 * The create-job form's state and its mapping to the CreateJob input. The mapping only renames
 * and drops empty parts: every rule is checked by the jobs service, whose errors come back by field.
 */

import { imageEntry, s3Url, withImageEntry } from './image-entry.js';

export type DocumentMode = 'inline' | 'bucket' | 'upload';

export interface FileRef {
  bucket: string;
  key: string;
  versionId?: string;
}

export interface Wave {
  kind: 'count' | 'percentage';
  value: string;
}

export interface Draft {
  jobId: string;
  description: string;
  targets: string[];
  documentMode: DocumentMode;
  documentText: string;
  documentFile?: FileRef;
  /** The firmware image the document points devices at (placeholders below use it). */
  image?: FileRef;
  sign: { enabled: boolean; profileName: string };
  presign: { enabled: boolean; roleArn: string; expiresInSec: string };
  targetSelection: 'SNAPSHOT' | 'CONTINUOUS';
  rollout: {
    enabled: boolean;
    maximumPerMinute: string;
    exponential: boolean;
    baseRatePerMinute: string;
    incrementFactor: string;
    criterion: 'notified' | 'succeeded';
    threshold: string;
  };
  abort: { failureType: string; thresholdPercentage: string; minNumberOfExecutedThings: string }[];
  timeoutMinutes: string;
  retries: { failureType: string; numberOfRetries: string }[];
  scheduling: {
    enabled: boolean;
    startTime: string;
    endTime: string;
    endBehavior: string;
    windows: { startTime: string; durationInMinutes: string }[];
  };
  staged: { enabled: boolean; waves: Wave[]; successThresholdPercentage: string; onGateFailure: 'PAUSE' | 'ABORT' };
}

export const EMPTY_DRAFT: Draft = {
  jobId: '',
  description: '',
  targets: [],
  documentMode: 'inline',
  documentText: JSON.stringify(
    {
      version: '1.0',
      steps: [{ action: { name: 'install', type: 'runHandler', input: { handler: 'install.sh' } } }],
    },
    null,
    2,
  ),
  sign: { enabled: false, profileName: '' },
  presign: { enabled: false, roleArn: '', expiresInSec: '3600' },
  targetSelection: 'SNAPSHOT',
  rollout: {
    enabled: false,
    maximumPerMinute: '',
    exponential: false,
    baseRatePerMinute: '',
    incrementFactor: '',
    criterion: 'notified',
    threshold: '',
  },
  abort: [],
  timeoutMinutes: '',
  retries: [],
  scheduling: { enabled: false, startTime: '', endTime: '', endBehavior: '', windows: [] },
  staged: { enabled: false, waves: [], successThresholdPercentage: '', onGateFailure: 'PAUSE' },
};

/** Client-side check of the job id as it is typed (the service checks it again). */
export function jobIdProblem(id: string): string | undefined {
  if (id === '') return 'A job id is required.';
  if (id.length > 64) return `At most 64 characters (now ${id.length}).`;
  const bad = [...new Set(id.replace(/[a-zA-Z0-9_-]/g, ''))];
  if (bad.length > 0) return `Only letters, digits, - and _ are allowed; not ${bad.map((c) => `"${c}"`).join(', ')}.`;
  return undefined;
}

const num = (s: string): number | undefined => (s.trim() === '' ? undefined : Number(s));
const defined = <T extends object>(o: T): T | undefined =>
  Object.values(o).some((v) => v !== undefined) ? o : undefined;

function rollout(d: Draft): object | undefined {
  if (!d.rollout.enabled) return undefined;
  const r = d.rollout;
  return defined({
    maximumPerMinute: num(r.maximumPerMinute),
    exponentialRate: r.exponential
      ? {
          baseRatePerMinute: num(r.baseRatePerMinute),
          incrementFactor: num(r.incrementFactor),
          rateIncreaseCriteria:
            r.criterion === 'notified'
              ? { numberOfNotifiedThings: num(r.threshold) }
              : { numberOfSucceededThings: num(r.threshold) },
        }
      : undefined,
  });
}

function scheduling(d: Draft): object | undefined {
  const s = d.scheduling;
  if (!s.enabled) return undefined;
  return defined({
    startTime: s.startTime || undefined,
    endTime: s.endTime || undefined,
    endBehavior: s.endBehavior || undefined,
    maintenanceWindows:
      s.windows.length > 0
        ? s.windows.map((w) => ({ startTime: w.startTime, durationInMinutes: num(w.durationInMinutes) }))
        : undefined,
  });
}

function staged(d: Draft): object | undefined {
  const s = d.staged;
  if (!s.enabled) return undefined;
  return {
    waves: s.waves.map((w) => (w.kind === 'count' ? { count: num(w.value) } : { percentage: num(w.value) })),
    successThresholdPercentage: num(s.successThresholdPercentage),
    onGateFailure: s.onGateFailure,
  };
}

/** The CreateJob request the form describes (AWS member names; stagedRollout is the fleetjobs extension). */
export function toCreateJobInput(d: Draft, region: string): Record<string, unknown> {
  const input: Record<string, unknown> = { jobId: d.jobId, targets: d.targets, targetSelection: d.targetSelection };
  if (d.description !== '') input.description = d.description;
  if (d.documentMode === 'inline') input.document = withImageEntry(d.documentText, imageEntry(d, region));
  else if (d.documentFile) {
    // Pin the version chosen, so the job reads exactly the file that was reviewed.
    const v = d.documentFile.versionId;
    input.documentSource = s3Url(region, d.documentFile) + (v ? `?versionId=${encodeURIComponent(v)}` : '');
  }
  // The profile that fills the code-sign placeholders at CreateJob (the fleetjobs extension member).
  if (d.sign.enabled && d.sign.profileName !== '') input.codeSigning = { profileName: d.sign.profileName };
  if (d.presign.enabled)
    input.presignedUrlConfig = { roleArn: d.presign.roleArn, expiresInSec: num(d.presign.expiresInSec) };
  const r = rollout(d);
  if (r) input.jobExecutionsRolloutConfig = r;
  if (d.abort.length > 0) {
    input.abortConfig = {
      criteriaList: d.abort.map((c) => ({
        failureType: c.failureType,
        action: 'CANCEL',
        thresholdPercentage: num(c.thresholdPercentage),
        minNumberOfExecutedThings: num(c.minNumberOfExecutedThings),
      })),
    };
  }
  if (d.timeoutMinutes !== '') input.timeoutConfig = { inProgressTimeoutInMinutes: num(d.timeoutMinutes) };
  if (d.retries.length > 0) {
    input.jobExecutionsRetryConfig = {
      criteriaList: d.retries.map((c) => ({ failureType: c.failureType, numberOfRetries: num(c.numberOfRetries) })),
    };
  }
  const s = scheduling(d);
  if (s) input.schedulingConfig = s;
  const w = staged(d);
  if (w) input.stagedRollout = w;
  return input;
}

/** Which wizard step owns a field the service complained about. */
export function stepOfField(field: string): number {
  const top = field.split('.')[0] ?? '';
  if (top === 'jobId' || top === 'description') return 0;
  if (top === 'targets') return 1;
  if (top === 'document' || top === 'documentSource') return 2;
  if (top === 'presignedUrlConfig' || top === 'codeSigning') return 3;
  return 4;
}
