/**
 * A job's settings in words (Review and the job page), from the CreateJob / DescribeJob members
 * (AWS names; stagedRollout and codeSigning are fleetjobs extensions). Anything not understood is
 * shown as it is, never dropped.
 */
export interface Setting {
  label: string;
  text: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);
const plural = (n: unknown, one: string, many = `${one}s`): string => `${String(n)} ${n === 1 ? one : many}`;
const failure = (t: unknown): string =>
  t === 'ALL' ? 'any failure' : t === 'TIMED_OUT' ? 'timed out' : String(t ?? '').toLowerCase();
const nameFromArn = (arn: unknown): string => String(arn ?? '').replace(/^arn:[^:]*:[^:]*:[^:]*:[^:]*:[^/]*\//, '');

function rollout(r: Obj): string {
  const parts: string[] = [];
  if (r.maximumPerMinute !== undefined) parts.push(`at most ${plural(r.maximumPerMinute, 'thing')} notified a minute`);
  const e = isObj(r.exponentialRate) ? r.exponentialRate : undefined;
  if (e) {
    const c = isObj(e.rateIncreaseCriteria) ? e.rateIncreaseCriteria : {};
    const after =
      c.numberOfNotifiedThings !== undefined
        ? `every ${plural(c.numberOfNotifiedThings, 'thing')} notified`
        : c.numberOfSucceededThings !== undefined
          ? `every ${plural(c.numberOfSucceededThings, 'thing')} succeeded`
          : 'on each step';
    parts.push(`starting at ${String(e.baseRatePerMinute)} a minute, times ${String(e.incrementFactor)} ${after}`);
  }
  return parts.join('; ') || 'as fast as possible';
}

function abort(a: Obj): string {
  return list(a.criteriaList)
    .map(
      (c) =>
        `${String(c.action ?? 'CANCEL').toLowerCase()} the job when ${String(c.thresholdPercentage)}% of things ended ${failure(c.failureType)}, once at least ${plural(c.minNumberOfExecutedThings, 'thing')} finished`,
    )
    .join('; ');
}

function timeout(t: Obj): string {
  return t.inProgressTimeoutInMinutes === undefined
    ? 'none'
    : `a thing that stays in progress for ${plural(t.inProgressTimeoutInMinutes, 'minute')} times out`;
}

function retries(r: Obj): string {
  return list(r.criteriaList)
    .map((c) => `retry ${plural(c.numberOfRetries, 'time')} when ${failure(c.failureType)}`)
    .join('; ');
}

function scheduling(s: Obj): string {
  const parts: string[] = [];
  if (s.startTime) parts.push(`starts ${String(s.startTime).replace('T', ' ')} UTC`);
  if (s.endTime) {
    const how = s.endBehavior === 'CANCEL' ? 'cancel' : s.endBehavior === 'FORCE_CANCEL' ? 'force-cancel' : 'stop';
    parts.push(`ends ${String(s.endTime).replace('T', ' ')} UTC (then ${how} the rollout)`);
  }
  for (const w of list(s.maintenanceWindows)) {
    parts.push(`maintenance window ${String(w.startTime)} for ${plural(w.durationInMinutes, 'minute')}`);
  }
  return parts.join('; ');
}

function staged(s: Obj): string {
  const waves = list(s.waves).map((w) => (w.percentage !== undefined ? `${String(w.percentage)}%` : String(w.count)));
  const gate =
    s.successThresholdPercentage !== undefined
      ? `; the next wave starts when ${String(s.successThresholdPercentage)}% of a wave succeeded, else ${s.onGateFailure === 'ABORT' ? 'the job is aborted' : 'the rollout pauses'}`
      : '';
  return `waves of ${waves.join(', then ')} things${gate}`;
}

function presign(p: Obj): string {
  return `download URLs made with role ${nameFromArn(p.roleArn)}, valid for ${plural(p.expiresInSec ?? 3600, 'second')}`;
}

const DESCRIBE: [string, string, (o: Obj) => string][] = [
  ['codeSigning', 'Code signing', (c) => `signed at creation with profile ${String(c.profileName)}`],
  ['presignedUrlConfig', 'Presigned URLs', presign],
  ['jobExecutionsRolloutConfig', 'Rollout', rollout],
  ['abortConfig', 'Abort', abort],
  ['timeoutConfig', 'Timeout', timeout],
  ['jobExecutionsRetryConfig', 'Retries', retries],
  ['schedulingConfig', 'Scheduling', scheduling],
  ['stagedRollout', 'Staged waves', staged],
];

/** The settings present in a CreateJob request or a described job, each in a sentence. */
export function settingsInWords(job: Obj): Setting[] {
  const out: Setting[] = [];
  for (const [member, label, describe] of DESCRIBE) {
    const v = job[member];
    if (!isObj(v) || Object.keys(v).length === 0) continue;
    let text: string;
    try {
      text = describe(v);
    } catch {
      text = '';
    }
    out.push({ label, text: text || JSON.stringify(v) });
  }
  return out;
}
