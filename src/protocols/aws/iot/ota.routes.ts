import type { OtaUpdatesService } from '../../../ota/ota.service.js';
import type { RestJsonAdapter } from '../adapter.js';
import type { AwsRequest } from '../request.js';

// Bodies are passed through as the service's input type: the service checks every member's type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = (req: AwsRequest): any => req.body ?? {};

/** The OTA update routes of the iot control plane (iot 2015-05-28 CreateOTAUpdate & co.). */
export function registerOtaRoutes(api: RestJsonAdapter, s: { updates: OtaUpdatesService }): void {
  api
    .add('POST', '/otaUpdates/{otaUpdateId}', 'CreateOTAUpdate', (r) =>
      s.updates.createOtaUpdate({ ...body(r), otaUpdateId: r.params.otaUpdateId! }),
    )
    .add('GET', '/otaUpdates/{otaUpdateId}', 'GetOTAUpdate', (r) => s.updates.getOtaUpdate(r.params.otaUpdateId!))
    .add('GET', '/otaUpdates', 'ListOTAUpdates', (r) =>
      s.updates.listOtaUpdates({
        maxResults: r.query.int('maxResults'),
        nextToken: r.query.string('nextToken'),
        otaUpdateStatus: r.query.string('otaUpdateStatus'),
      }),
    )
    .add('DELETE', '/otaUpdates/{otaUpdateId}', 'DeleteOTAUpdate', async (r) => {
      await s.updates.deleteOtaUpdate({
        otaUpdateId: r.params.otaUpdateId!,
        deleteStream: r.query.bool('deleteStream'),
        forceDeleteAWSJob: r.query.bool('forceDeleteAWSJob'),
      });
      return {};
    });
}
