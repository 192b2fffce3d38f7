/**
 * CreateOTAUpdate records (issue 20 item 3). The request is kept as given (JSON columns) so
 * GetOTAUpdate answers in AWS's shape and the worker can build the job from it at any time.
 */
export interface OtaUpdatesTable {
  ota_update_id: string;
  /** OTA_UPDATE_STATUSES (ota.schemas.ts). */
  status: string;
  description: string | null;
  /** JSON string[] of thing / thing-group ARNs. */
  targets: string;
  /** JSON ('MQTT' | 'HTTP')[] as requested (null: the default, MQTT). */
  protocols: string | null;
  target_selection: string | null;
  /** JSON of the aws* job configurations, as requested. */
  rollout_config: string | null;
  presigned_url_config: string | null;
  abort_config: string | null;
  timeout_config: string | null;
  /** JSON OTAUpdateFile[]: the request's files; codeSigning.awsSignerJobId is filled once signed. */
  files: string;
  role_arn: string;
  additional_parameters: string | null;
  /** The stream the MQTT delivery uses: given in the files, or AFR_OTA-<uuid> made by the worker. */
  stream_id: string | null;
  /** 1 when the worker created stream_id (DeleteOTAUpdate deleteStream deletes only those). */
  stream_created: number;
  /** AFR_OTA-<otaUpdateId> once the job exists. */
  aws_iot_job_id: string | null;
  error_code: string | null;
  error_message: string | null;
  /** The worker replica building it, until lease_until (epoch ms, clock time). */
  lease_owner: string | null;
  lease_until: number;
  attempts: number;
  created_at: number;
  updated_at: number;
}

declare module '../store/database.js' {
  interface Database {
    ota_updates: OtaUpdatesTable;
  }
}
