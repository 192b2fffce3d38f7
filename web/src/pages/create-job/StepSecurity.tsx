import { useEffect } from 'react';
import { useApi } from '../../api/use-api';
import { Field } from '../../components/Field';
import { FilePicker } from '../../components/FilePicker';
import { NewDownloadRoleForm } from '../../components/NewDownloadRoleForm';
import { NewProfileForm } from '../../components/NewProfileForm';
import type { StepProps } from './CreateJobWizard';
import { imageEntry } from './image-entry';
import { DEFAULT_PROFILE_TAG, defaultProfile, type SigningProfile } from './signing-profiles';

/**
 * The firmware image, "Sign image for me" (a signing profile) and "Pre-sign resource URLs" (role +
 * expiry). The choices alone make the image's `files` entry (no extra button): it is shown here as
 * it goes into the document, and the server signs the image with the chosen profile at CreateJob.
 */
export function StepSecurity({ draft, update, error, session }: StepProps) {
  const profiles = useApi<{ profiles: SigningProfile[] }>(draft.sign.enabled ? '/signing/profiles' : null);
  const roles = useApi<{ Roles: { RoleName: string; Arn: string }[] }>(draft.presign.enabled ? '/roles' : null);
  const image = draft.image;
  const inline = draft.documentMode === 'inline';
  const entry = imageEntry(draft, session.region);
  const active = profiles.data?.profiles.filter((p) => p.status === 'Active');
  const chosen = draft.sign.profileName;
  useEffect(() => {
    // Preselect the profile CreateJob would take by itself (the default one, or the only one).
    if (!draft.sign.enabled || chosen !== '' || !active) return;
    const d = defaultProfile(active);
    if (d) update({ sign: { ...draft.sign, profileName: d.profileName } });
  }, [active, chosen, draft.sign, update]);

  return (
    <>
      <FilePicker label="Firmware image (optional)" value={image} onChange={(f) => update({ image: f })} />
      <fieldset>
        <legend>
          <label className="check">
            <input
              type="checkbox"
              checked={draft.sign.enabled}
              onChange={(e) => update({ sign: { ...draft.sign, enabled: e.target.checked } })}
            />
            Sign image for me
          </label>
        </legend>
        {draft.sign.enabled && (
          <>
            <Field
              label="Code-signing profile"
              hint="Or create one below."
              error={profiles.error?.message ?? error?.forField('codeSigning')}
            >
              {(a) => (
                <select
                  {...a}
                  value={chosen}
                  onChange={(e) => update({ sign: { ...draft.sign, profileName: e.target.value } })}
                >
                  <option value="">Choose…</option>
                  {active?.map((p) => (
                    <option key={p.profileName} value={p.profileName}>
                      {p.profileName} {p.platformId ? `(${p.platformId})` : ''}
                      {p.tags?.[DEFAULT_PROFILE_TAG] === 'true' ? ' — default' : ''}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <NewProfileForm
              onCreated={(profileName) => {
                update({ sign: { ...draft.sign, profileName } });
                profiles.reload();
              }}
            />
            <p className="hint" role="status">
              {image?.versionId && chosen
                ? `When you create the job, the server signs version ${image.versionId} of s3://${image.bucket}/${image.key} with profile ${chosen} and puts the signature in the document.`
                : 'Choose the image (in a versioned bucket) and a profile: the server signs the image when you create the job.'}
            </p>
          </>
        )}
      </fieldset>
      <fieldset>
        <legend>
          <label className="check">
            <input
              type="checkbox"
              checked={draft.presign.enabled}
              onChange={(e) => update({ presign: { ...draft.presign, enabled: e.target.checked } })}
            />
            Pre-sign resource URLs
          </label>
        </legend>
        {draft.presign.enabled && (
          <>
            <Field
              label="Role"
              hint="It must trust the jobs service and allow reading the image; you can make one below."
              error={error?.forField('presignedUrlConfig.roleArn') ?? roles.error?.message}
            >
              {(a) => (
                <select
                  {...a}
                  value={draft.presign.roleArn}
                  onChange={(e) => update({ presign: { ...draft.presign, roleArn: e.target.value } })}
                >
                  <option value="">Choose…</option>
                  {roles.data?.Roles.map((r) => (
                    <option key={r.Arn} value={r.Arn}>
                      {r.RoleName}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <NewDownloadRoleForm
              bucket={image?.bucket}
              onCreated={(r) => {
                update({ presign: { ...draft.presign, roleArn: r.arn } });
                roles.reload();
              }}
            />
            <Field
              label="URLs expire after (seconds)"
              hint="60 to 3600"
              error={error?.forField('presignedUrlConfig.expiresInSec')}
            >
              {(a) => (
                <input
                  {...a}
                  type="number"
                  min={60}
                  max={3600}
                  value={draft.presign.expiresInSec}
                  onChange={(e) => update({ presign: { ...draft.presign, expiresInSec: e.target.value } })}
                />
              )}
            </Field>
          </>
        )}
      </fieldset>
      {inline && entry && (
        <>
          <h3>The image in the document</h3>
          <pre className="code small" tabIndex={0} aria-label="The image's entry in the document">
            {JSON.stringify({ files: [entry] }, null, 2)}
          </pre>
          <p className="hint">
            The agent downloads <code>{entry.name}</code>
            {entry.codesign ? ' and checks its signature' : ''} before the first step runs.
          </p>
        </>
      )}
      {!inline && (draft.sign.enabled || draft.presign.enabled) && (
        <p className="hint">
          The document comes from a file: put the placeholders in that file (the README shows the format); the chosen
          profile and role are used for it.
        </p>
      )}
      {error?.forField('presignedUrlConfig') && !error.forField('presignedUrlConfig.roleArn') && (
        <p className="field-error" role="alert">
          {error.forField('presignedUrlConfig')}
        </p>
      )}
    </>
  );
}
