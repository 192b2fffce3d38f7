export interface SigningProfile {
  profileName: string;
  platformId?: string;
  status?: string;
  tags?: Record<string, string>;
  signingMaterial?: { certificateArn?: string };
}

/** Tag of the profile that signs documents whose job names none (src/signing/job-document-signer.ts). */
export const DEFAULT_PROFILE_TAG = 'fleetjobs:defaultForJobs';

/** The profile CreateJob takes when the job names none: the one tagged default, else the only Active one. */
export function defaultProfile(active: SigningProfile[]): SigningProfile | undefined {
  const tagged = active.filter((p) => p.tags?.[DEFAULT_PROFILE_TAG] === 'true');
  if (tagged.length === 1) return tagged[0];
  return tagged.length === 0 && active.length === 1 ? active[0] : undefined;
}
