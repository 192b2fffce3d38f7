import { useState, type FormEvent } from 'react';
import { ApiError, post } from '../../api/client';
import { useApi } from '../../api/use-api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Field } from '../../components/Field';
import { FilePicker, type PickedFile } from '../../components/FilePicker';
import { TargetPicker } from '../../components/TargetPicker';
import { navigate } from '../../router';
import type { SigningProfile } from './signing-profiles';

const PROTOCOLS = ['MQTT', 'HTTP'] as const;
type Protocol = (typeof PROTOCOLS)[number];

/** The job an OTA update makes is AFR_OTA-<id>, at most 64 characters (spec 6.5). */
const OTA_ID = /^[a-zA-Z0-9_-]{1,56}$/;

interface OtaUpdateInfo {
  otaUpdateInfo: {
    otaUpdateStatus: string;
    awsIotJobId?: string;
    errorInfo?: { code?: string; message?: string };
  };
}

/**
 * The create-job flow's path for FreeRTOS devices: CreateOTAUpdate. The server signs the chosen
 * version of the image with the profile, puts it on a stream (MQTT) and/or behind presigned URLs
 * (HTTP), and makes the AFR_OTA-<id> job; the page then opens that job.
 */
export function CreateOtaPage() {
  const [id, setId] = useState('');
  const [targets, setTargets] = useState<string[]>([]);
  const [image, setImage] = useState<PickedFile>();
  const [fileName, setFileName] = useState('');
  const [protocols, setProtocols] = useState<Protocol[]>(['MQTT']);
  const [profile, setProfile] = useState('');
  const [role, setRole] = useState('');
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [failed, setFailed] = useState<string>();
  const profiles = useApi<{ profiles: SigningProfile[] }>('/signing/profiles');
  const roles = useApi<{ Roles: { RoleName: string; Arn: string }[] }>('/roles');
  const active = profiles.data?.profiles.filter((p) => p.status === 'Active') ?? [];

  const problem = !OTA_ID.test(id)
    ? 'The update id: 1–56 letters, digits, - and _ (its job is AFR_OTA-<id>).'
    : targets.length === 0
      ? 'Choose at least one thing or group.'
      : !image?.versionId
        ? 'Choose the firmware image, in a versioned bucket.'
        : protocols.length === 0
          ? 'Choose MQTT, HTTP or both.'
          : profile === ''
            ? 'Choose a code-signing profile.'
            : role === ''
              ? 'Choose the role the server reads the image with.'
              : undefined;

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setTried(true);
    if (problem || !image) return;
    setBusy(true);
    setError(undefined);
    setFailed(undefined);
    try {
      const { otaUpdateInfo: info } = await post<OtaUpdateInfo>('/ota-updates', {
        otaUpdateId: id,
        targets,
        targetSelection: 'SNAPSHOT',
        protocols,
        roleArn: role,
        files: [
          {
            fileName: fileName || image.key,
            fileLocation: { s3Location: { bucket: image.bucket, key: image.key, version: image.versionId } },
            codeSigning: {
              startSigningJobParameter: {
                signingProfileName: profile,
                destination: { s3Destination: { bucket: image.bucket, prefix: 'SignedImages/' } },
              },
            },
          },
        ],
        ...(protocols.includes('HTTP') && { awsJobPresignedUrlConfig: { expiresInSec: 1800 } }),
      });
      if (info.awsIotJobId && info.otaUpdateStatus === 'CREATE_COMPLETE') {
        navigate(`/jobs/${encodeURIComponent(info.awsIotJobId)}`);
        return;
      }
      setFailed(
        info.otaUpdateStatus === 'CREATE_FAILED'
          ? `The OTA update failed: ${info.errorInfo?.message ?? info.errorInfo?.code ?? 'no reason given'}`
          : `The OTA update is ${info.otaUpdateStatus}; its job appears under Jobs once it is made.`,
      );
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'Error', String(err)));
    }
    setBusy(false);
  };

  return (
    <section aria-labelledby="ota-title">
      <h1 id="ota-title">Create an OTA update</h1>
      <p className="hint">
        For devices running the FreeRTOS OTA agent. For any other job, <a href="#/jobs/new">create a job</a>.
      </p>
      <form onSubmit={(e) => void submit(e)} noValidate className="card">
        <Field
          label="OTA update id"
          hint="1–56 letters, digits, - and _. The job is AFR_OTA-<id>."
          error={error?.forField('otaUpdateId')}
        >
          {(a) => <input {...a} value={id} onChange={(e) => setId(e.target.value)} autoComplete="off" />}
        </Field>
        <TargetPicker selected={targets} onChange={setTargets} />
        <FilePicker
          label="Firmware image"
          value={image}
          onChange={(f) => {
            setImage(f);
            if (f && fileName === '') setFileName(f.key);
          }}
        />
        <Field label="File name on the device" hint="The agent writes the image there (afr_ota filepath).">
          {(a) => <input {...a} value={fileName} onChange={(e) => setFileName(e.target.value)} />}
        </Field>
        <fieldset className="filters">
          <legend>How devices download it</legend>
          {PROTOCOLS.map((p) => (
            <label key={p} className="chip">
              <input
                type="checkbox"
                checked={protocols.includes(p)}
                onChange={(e) => setProtocols(e.target.checked ? [...protocols, p] : protocols.filter((x) => x !== p))}
              />
              {p === 'MQTT' ? 'MQTT (stream)' : 'HTTP (presigned URL)'}
            </label>
          ))}
        </fieldset>
        <Field
          label="Code-signing profile"
          hint="The server signs the image version with it; devices check the signature with its certificate."
          error={profiles.error?.message}
        >
          {(a) => (
            <select {...a} value={profile} onChange={(e) => setProfile(e.target.value)}>
              <option value="">Choose…</option>
              {active.map((p) => (
                <option key={p.profileName} value={p.profileName}>
                  {p.profileName} {p.platformId ? `(${p.platformId})` : ''}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field
          label="Role"
          hint="Trusted by the IoT service, allowed to read the image (stream and download URLs use it)."
          error={roles.error?.message ?? error?.forField('roleArn')}
        >
          {(a) => (
            <select {...a} value={role} onChange={(e) => setRole(e.target.value)}>
              <option value="">Choose…</option>
              {roles.data?.Roles.map((r) => (
                <option key={r.Arn} value={r.Arn}>
                  {r.RoleName}
                </option>
              ))}
            </select>
          )}
        </Field>
        {tried && problem && (
          <p className="field-error" role="alert">
            {problem}
          </p>
        )}
        {failed && (
          <p className="field-error" role="alert">
            {failed}
          </p>
        )}
        <ErrorMessage error={error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Signing and creating…' : 'Create OTA update'}
          </button>
        </div>
      </form>
    </section>
  );
}
