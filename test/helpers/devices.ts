import { readFileSync } from 'node:fs';
import {
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { TestServer } from './server.js';

export interface Device {
  thingName: string;
  certificateId: string;
  certificateArn: string;
  cert: string;
  key: string;
  ca: string;
}

/** A thing with an ACTIVE certificate from CreateKeysAndCertificate, attached: what a fleet provisioner does. */
export async function provisionDevice(
  t: TestServer,
  iot: IoTClient,
  thingName: string,
  active = true,
): Promise<Device> {
  await iot.send(new CreateThingCommand({ thingName }));
  const keys = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: active }));
  await iot.send(new AttachThingPrincipalCommand({ thingName, principal: keys.certificateArn! }));
  return {
    thingName,
    certificateId: keys.certificateId!,
    certificateArn: keys.certificateArn!,
    cert: keys.certificatePem!,
    key: keys.keyPair!.PrivateKey!,
    ca: caPem(t),
  };
}

export const caPem = (t: TestServer): string => readFileSync(t.server.endpoints.caCertificate!, 'utf8');

/** The port of a listener URL from the ready line (`mqtts://` included). */
export const portOf = (url: string): number => Number(new URL(url.replace(/^mqtts:/, 'https:')).port);

export function mqttUrl(t: TestServer): string {
  return t.server.endpoints.mqtt!;
}

/** An mqtt.js client over mqtts with the device's certificate, MQTT 3.1.1, no reconnects. */
export function connectDevice(
  t: TestServer,
  device: Pick<Device, 'cert' | 'key' | 'ca'>,
  clientId: string,
  options: IClientOptions = {},
): Promise<MqttClient> {
  return mqtt.connectAsync(mqttUrl(t), {
    clientId,
    cert: device.cert,
    key: device.key,
    ca: device.ca,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...options,
  });
}

/**
 * The reason a connection attempt failed (it must fail): a CONNACK refusal, a TLS error, or the
 * server closing the socket (a TLS 1.3 client learns of a refused certificate only that way).
 */
export function connectRefusal(
  t: TestServer,
  device: Pick<Device, 'cert' | 'key' | 'ca'>,
  clientId: string,
): Promise<string> {
  const client = mqtt.connect(mqttUrl(t), {
    clientId,
    cert: device.cert,
    key: device.key,
    ca: device.ca,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => {
      client.end(true);
      reject(new Error(`the connection of ${clientId} was accepted`));
    });
    client.once('error', (err) => {
      client.end(true);
      resolve(err.message);
    });
    client.once('close', () => resolve('connection closed by the server'));
  });
}

export interface Message {
  topic: string;
  payload: Record<string, unknown>;
}

/** Records every message a client receives; tests wait for the ones they expect. */
export class Inbox {
  readonly messages: Message[] = [];
  private waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];

  constructor(client: MqttClient) {
    client.on('message', (topic, payload) => {
      const m: Message = { topic, payload: JSON.parse(payload.toString('utf8')) as Record<string, unknown> };
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(m)) return true;
        w.resolve(m);
        return false;
      });
    });
  }

  /** The next message (from now on, or already received after `from`) matching. */
  next(match: string | ((m: Message) => boolean), from = this.messages.length, timeoutMs = 10_000): Promise<Message> {
    const pred = typeof match === 'string' ? (m: Message) => m.topic === match : match;
    const seen = this.messages.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message matching ${String(match)}`)), timeoutMs);
      this.waiters.push({
        match: pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  on(topic: string): Message[] {
    return this.messages.filter((m) => m.topic === topic);
  }
}

/** Publishes a request and waits for its reply on <topic>/accepted or /rejected. */
export async function request(client: MqttClient, inbox: Inbox, topic: string, payload: unknown): Promise<Message> {
  const from = inbox.messages.length;
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  await client.publishAsync(topic, body, { qos: 1 });
  return inbox.next((m) => m.topic === `${topic}/accepted` || m.topic === `${topic}/rejected`, from);
}
