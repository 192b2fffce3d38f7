import { useApi } from '../../api/use-api';
import { Field } from '../../components/Field';
import { FilePicker } from '../../components/FilePicker';
import { NewProfileForm } from '../../components/NewProfileForm';
import { href } from '../../router';
import type { StepProps } from './CreateJobWizard';
import { presignPlaceholder, signaturePlaceholder, withFileEntry } from './draft';

interface SigningProfile {
  profileName: string;
  platformId?: string;
  status?: string;
}

/** The firmware image, "Sign image for me" (a signing profile) and "Pre-sign resource URLs" (role + expiry). */
export function StepSecurity({ draft, update, error, session }: StepProps) {
  const profiles = useApi<{ profiles: SigningProfile[] }>(draft.sign.enabled ? '/signing/profiles' : null);
  const roles = useApi<{ Roles: { RoleName: string; Arn: string }[] }>(draft.presign.enabled ? '/roles' : null);
  const image = draft.image;
  const inline = draft.documentMode === 'inline';
  const fileName = image?.key.split('/').pop() ?? '';
  const addToDocument = (patch: Record<string, string>): void => {
    const next = withFileEntry(draft.documentText, fileName, patch);
    if (next !== undefined) update({ documentText: next });
  };

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
              error={profiles.error?.message ?? error?.forField('signing')}
            >
              {(a) => (
                <select
                  {...a}
                  value={draft.sign.profileName}
                  onChange={(e) => update({ sign: { ...draft.sign, profileName: e.target.value } })}
                >
                  <option value="">Choose…</option>
                  {profiles.data?.profiles.map((p) => (
                    <option key={p.profileName} value={p.profileName}>
                      {p.profileName} {p.platformId ? `(${p.platformId})` : ''}
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
            <button
              type="button"
              disabled={!inline || !image?.versionId || !draft.sign.profileName}
              onClick={() => addToDocument({ signature: signaturePlaceholder(session.region, image!) })}
            >
              Add the image's signature to the document
            </button>
            <p className="hint">
              The server signs exactly this version of the image with the profile when you reach the review, and puts
              the signature block in the stored document.
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
              hint={
                <>
                  It must trust the jobs service; see <a href={href('/roles')}>Roles</a> for a one-click trust policy.
                </>
              }
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
            <button
              type="button"
              disabled={!inline || !image?.key}
              onClick={() => addToDocument({ url: presignPlaceholder(session.region, image!) })}
            >
              Add the image's download URL to the document
            </button>
          </>
        )}
      </fieldset>
      {!inline && (draft.sign.enabled || draft.presign.enabled) && (
        <p className="hint">The document comes from a file: put the placeholders in that file.</p>
      )}
      {error?.forField('presignedUrlConfig') && !error.forField('presignedUrlConfig.roleArn') && (
        <p className="field-error" role="alert">
          {error.forField('presignedUrlConfig')}
        </p>
      )}
    </>
  );
}
