import { ServiceError } from '../errors.js';

export const ENDPOINT_TYPES = ['iot:Data', 'iot:Data-ATS', 'iot:CredentialProvider', 'iot:Jobs'] as const;
export type EndpointType = (typeof ENDPOINT_TYPES)[number];

export interface DeviceEndpoints {
  /** host:port of the MQTT/TLS listener. */
  mqtt?: { host: string; port: number };
  /** host:port of the device HTTPS listener. */
  deviceHttps?: { host: string; port: number };
}

/** Ports a device SDK assumes when the endpoint has none (spec 1.1). */
const DEFAULT_PORTS: Record<EndpointType, number> = {
  'iot:Data': 8883,
  'iot:Data-ATS': 8883,
  'iot:CredentialProvider': 443,
  'iot:Jobs': 443,
};

/**
 * DescribeEndpoint (spec 2.7). AWS answers a bare host name; we add `:port` only when the port
 * is not the one device SDKs assume, because our listeners may sit on any port.
 */
export class EndpointService {
  constructor(private readonly endpoints: () => DeviceEndpoints) {}

  async describeEndpoint(endpointType: string | undefined) {
    const type = (endpointType ?? 'iot:Data') as EndpointType;
    if (!ENDPOINT_TYPES.includes(type)) {
      throw new ServiceError(
        'InvalidRequest',
        `Endpoint type ${endpointType} is not valid; use one of ${ENDPOINT_TYPES.join(', ')}.`,
      );
    }
    const current = this.endpoints();
    const listener = type === 'iot:Jobs' || type === 'iot:CredentialProvider' ? current.deviceHttps : current.mqtt;
    if (!listener) throw new ServiceError('ServiceUnavailable', `No listener serves ${type} on this server.`);
    const address = listener.port === DEFAULT_PORTS[type] ? listener.host : `${listener.host}:${listener.port}`;
    return { endpointAddress: address };
  }
}
