import { ServiceError } from '../../errors.js';
import type { RestJsonAdapter } from '../aws/adapter.js';
import type { AwsRequest } from '../aws/request.js';
import type { DeviceJobsApi, RequestFields } from '../mqtt/device-jobs-api.js';

const NEXT = '$next';

const body = (req: AwsRequest): RequestFields => (req.body ?? {}) as RequestFields;

/**
 * The thing a request is about. A device (client certificate on the device HTTPS listener) may
 * only name its own thing; a SigV4 caller (admin, IAM user) may name any.
 */
function thingOf(req: AwsRequest): string {
  const thingName = req.params.thingName!;
  if (req.principal.kind === 'device' && req.principal.thingName !== thingName) {
    throw new ServiceError('AccessDenied', `The certificate is not allowed to act for thing ${thingName}.`);
  }
  return thingName;
}

function pick(from: RequestFields, keys: readonly string[]): RequestFields {
  const out: RequestFields = {};
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k];
  return out;
}

/**
 * spec 2.5 / 5.1: the `iot-jobs-data` REST routes, served on the main listener (SigV4, chosen by
 * the credential scope, spec 1.4) and on the device HTTPS listener (mutual TLS). jobDocument is
 * JSON text in this plane.
 */
export function registerJobsDataRoutes(api: RestJsonAdapter, jobs: () => DeviceJobsApi | undefined): void {
  const service = (): DeviceJobsApi => {
    const s = jobs();
    if (!s) throw new ServiceError('ServiceUnavailable', 'The jobs service is not available.');
    return s;
  };
  api
    .add('GET', '/things/{thingName}/jobs', 'GetPendingJobExecutions', (r) =>
      service().getPendingJobExecutions(thingOf(r)),
    )
    // spec 1.3: the SDK sends a literal `$next` here; `%24next` decodes to the same label.
    .add('PUT', '/things/{thingName}/jobs/{jobId}', 'StartNextPendingJobExecution', (r) => {
      if (r.params.jobId !== NEXT) {
        throw new ServiceError('UnknownOperation', `No AWS IoT Jobs data plane operation matches PUT ${r.rawPath}.`);
      }
      return service().startNextPendingJobExecution(
        thingOf(r),
        pick(body(r), ['statusDetails', 'stepTimeoutInMinutes']),
      );
    })
    .add('GET', '/things/{thingName}/jobs/{jobId}', 'DescribeJobExecution', (r) =>
      service().describeJobExecution(thingOf(r), r.params.jobId!, {
        ...(r.query.has('executionNumber') && { executionNumber: r.query.int('executionNumber') }),
        ...(r.query.has('includeJobDocument') && { includeJobDocument: r.query.bool('includeJobDocument') }),
      }),
    )
    .add('POST', '/things/{thingName}/jobs/{jobId}', 'UpdateJobExecution', (r) =>
      service().updateJobExecution(
        thingOf(r),
        r.params.jobId!,
        pick(body(r), [
          'status',
          'statusDetails',
          'stepTimeoutInMinutes',
          'expectedVersion',
          'includeJobExecutionState',
          'includeJobDocument',
          'executionNumber',
        ]),
      ),
    );
}
