import type { EventConfigurationsService } from '../../../scheduler/event-configurations.service.js';
import type { RestJsonAdapter } from '../adapter.js';
import type { AwsRequest } from '../request.js';

// The service checks every member's type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = (req: AwsRequest): any => req.body ?? {};

/** spec 2.2: UpdateEventConfigurations / DescribeEventConfigurations of the iot control plane. */
export function registerEventRoutes(
  api: RestJsonAdapter,
  s: { eventConfigurations: EventConfigurationsService },
): void {
  api
    .add('PATCH', '/event-configurations', 'UpdateEventConfigurations', (r) =>
      s.eventConfigurations.updateEventConfigurations(body(r)),
    )
    .add('GET', '/event-configurations', 'DescribeEventConfigurations', () =>
      s.eventConfigurations.describeEventConfigurations(),
    );
}
