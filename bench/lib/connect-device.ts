import mqtt, { type MqttClient } from 'mqtt';

/** What a bench device connects with: the fleet's one certificate and the server's CA. */
export interface DeviceCredentials {
  url: string;
  cert: string;
  key: string;
  ca: string;
}

/** One simulated device over MQTT 3.1.1/TLS, its thing name as client id; no reconnects (a bench counts failures). */
export function connectDevice(thing: string, c: DeviceCredentials): Promise<MqttClient> {
  return mqtt.connectAsync(c.url, {
    clientId: thing,
    cert: c.cert,
    key: c.key,
    ca: c.ca,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 120_000,
    keepalive: 600,
  });
}
