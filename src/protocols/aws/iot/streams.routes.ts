import type { StreamsService } from '../../../streams/streams.service.js';
import type { RestJsonAdapter } from '../adapter.js';
import type { AwsRequest } from '../request.js';

// Bodies are passed through as the service's input type: the services check every member's type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = (req: AwsRequest): any => req.body ?? {};

/** Streams of the iot control plane (AWS model: CreateStream ... DeleteStream, restJson). */
export function registerStreamRoutes(api: RestJsonAdapter, s: { streams: StreamsService }): void {
  api
    .add('POST', '/streams/{streamId}', 'CreateStream', (r) =>
      s.streams.createStream({ ...body(r), streamId: r.params.streamId! }),
    )
    .add('GET', '/streams/{streamId}', 'DescribeStream', (r) => s.streams.describeStream(r.params.streamId!))
    .add('GET', '/streams', 'ListStreams', (r) =>
      s.streams.listStreams({
        maxResults: r.query.int('maxResults'),
        nextToken: r.query.string('nextToken'),
        // The model's query name for ascendingOrder is isAscendingOrder.
        ascendingOrder: r.query.bool('isAscendingOrder'),
      }),
    )
    .add('PUT', '/streams/{streamId}', 'UpdateStream', (r) =>
      s.streams.updateStream({ ...body(r), streamId: r.params.streamId! }),
    )
    .add('DELETE', '/streams/{streamId}', 'DeleteStream', async (r) => {
      await s.streams.deleteStream(r.params.streamId!);
      return {};
    });
}
