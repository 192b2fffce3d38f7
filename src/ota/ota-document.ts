import type { AbortConfig, PresignedUrlConfig, RolloutConfig, TimeoutConfig } from '../jobs/job-configs.js';
import { OTA_JOB_PREFIX, OTA_PRESIGN_DEFAULT_SEC, type AwsJobConfigs, type OtaProtocol } from './ota.schemas.js';

/**
 * The FreeRTOS OTA job document (`afr_ota`, spec 6.5), pure. Key names are the OTA library's
 * (aws/ota-for-aws-iot-embedded-sdk source/include/ota_private.h OTA_JSON_*_KEY; the parser's
 * model is otaJobDocModelParamStructure in source/ota.c): `protocols` (required), `streamname`,
 * `files` (required) with `filepath`, `filesize` (required), `fileid` (required), `certfile`,
 * `update_data_url`, `auth_scheme`, `fileType`, `attr`, and the platform's signature key
 * (OTA_JsonFileSignatureKey, e.g. "sig-sha256-ecdsa"). Key order follows the job documents of
 * the library's test/unit-test/ota_utest.c (JOB_DOC_A, JOB_DOC_HTTP).
 * OTAUpdateFile.attributes are *not* put in the document (API_OTAUpdateFile: "They won't be sent
 * to devices as a part of the Job document"); `attr` (a uint32 in the library) is never written.
 */

/** What the device library accepts in auth_scheme for presigned S3 downloads (ota_utest.c JOB_DOC_HTTP). */
export const AUTH_SCHEME_PRESIGNED = 'aws.s3.presigned';

export interface OtaDocumentFile {
  filePath?: string;
  fileSize: number;
  fileId: number;
  certFile?: string;
  fileType?: number;
  /** The S3 object HTTP devices download (made into a presigned-URL placeholder). */
  httpObject?: { bucket: string; key: string; version?: string };
  signature?: { key: string; value: string };
}

export interface OtaDocumentInput {
  protocols: readonly OtaProtocol[];
  /** The stream MQTT devices read the files from; only with MQTT. */
  streamName?: string;
  region: string;
  files: readonly OtaDocumentFile[];
}

/** The job id of an OTA update (spec 6.5: `AFR_OTA-<name>`). */
export const otaJobId = (otaUpdateId: string): string => `${OTA_JOB_PREFIX}${otaUpdateId}`;

/**
 * The signature's key: `sig-<hash>-<algorithm>` in lower case, as the FreeRTOS ports name it
 * (OTA_JsonFileSignatureKey "sig-sha256-ecdsa" on ECDSA ports, "sig-sha1-rsa" on the TI CC3220SF).
 * `hash`/`algorithm` are Signer's (SHA256, ECDSA) or customCodeSigning's strings.
 */
export function signatureKey(hash: string, algorithm: string): string {
  const clean = (s: string): string =>
    s
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '');
  return `sig-${clean(hash)}-${clean(algorithm)}`;
}

/** Characters the unencoded (v1) placeholder cannot carry inside its URL (spec 6.1). */
const V1_UNSAFE = /[}?#%\s"\\+&]/;

/**
 * The presigned-URL placeholder of the file's object version (spec 6.1), which the jobs service
 * replaces with a fresh URL each time a device fetches the document. The version is pinned so a
 * later upload under the same key never reaches devices with the old signature: v1 with a plain
 * `?versionId=` (fleetjobs extension, src/documents/placeholders.ts), or the v2 form (URL
 * percent-encoded) when the key has characters v1 cannot carry.
 */
export function presignedPlaceholder(region: string, o: { bucket: string; key: string; version?: string }): string {
  const base = `https://s3.${region}.amazonaws.com/${o.bucket}/`;
  if (!V1_UNSAFE.test(o.key) && !V1_UNSAFE.test(o.version ?? '')) {
    return `\${aws:iot:s3-presigned-url:${base}${o.key}${o.version ? `?versionId=${o.version}` : ''}}`;
  }
  const key = o.key.split('/').map(encodeURIComponent).join('/');
  const version = o.version ? `%3FversionId%3D${encodeURIComponent(o.version)}` : '';
  return `\${aws:iot:s3-presigned-url-v2:${base}${key}${version}}`;
}

export function buildOtaDocument(input: OtaDocumentInput): { afr_ota: Record<string, unknown> } {
  const mqtt = input.protocols.includes('MQTT');
  const http = input.protocols.includes('HTTP');
  const files = input.files.map((f) => {
    const out: Record<string, unknown> = {
      ...(f.filePath !== undefined && { filepath: f.filePath }),
      filesize: f.fileSize,
      fileid: f.fileId,
    };
    if (f.certFile !== undefined) out.certfile = f.certFile;
    if (f.fileType !== undefined) out.fileType = f.fileType;
    if (http && f.httpObject) {
      out.update_data_url = presignedPlaceholder(input.region, f.httpObject);
      out.auth_scheme = AUTH_SCHEME_PRESIGNED;
    }
    if (f.signature) out[f.signature.key] = f.signature.value;
    return out;
  });
  return {
    afr_ota: {
      protocols: [...input.protocols],
      ...(mqtt && input.streamName !== undefined && { streamname: input.streamName }),
      files,
    },
  };
}

/** The protocols of an update: as requested, in the order given; MQTT when none are (AWS's default). */
export function protocolsOf(requested: readonly OtaProtocol[] | undefined): OtaProtocol[] {
  if (!requested || requested.length === 0) return ['MQTT'];
  return [...new Set(requested)];
}

export interface JobConfigsForOta {
  jobExecutionsRolloutConfig?: RolloutConfig;
  presignedUrlConfig?: PresignedUrlConfig;
  abortConfig?: AbortConfig;
  timeoutConfig?: TimeoutConfig;
}

/**
 * The aws* configurations of CreateOTAUpdate as CreateJob's: the same members except the abort
 * list's name; presigned URLs (HTTP delivery only) are made under the OTA update's role.
 */
export function jobConfigsOf(c: AwsJobConfigs, roleArn: string, protocols: readonly OtaProtocol[]): JobConfigsForOta {
  return {
    ...(c.awsJobExecutionsRolloutConfig && { jobExecutionsRolloutConfig: c.awsJobExecutionsRolloutConfig }),
    ...(protocols.includes('HTTP') && {
      presignedUrlConfig: {
        roleArn,
        expiresInSec: c.awsJobPresignedUrlConfig?.expiresInSec ?? OTA_PRESIGN_DEFAULT_SEC,
      },
    }),
    ...(c.awsJobAbortConfig && { abortConfig: { criteriaList: c.awsJobAbortConfig.abortCriteriaList } }),
    ...(c.awsJobTimeoutConfig && { timeoutConfig: c.awsJobTimeoutConfig }),
  };
}
