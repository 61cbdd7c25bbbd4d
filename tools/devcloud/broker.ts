// The MQTT broker behind the gateway. Two backends with one interface:
// aedes embedded in this process (default) or Debian's mosquitto as a child
// process (mosquitto-broker.ts). Both listen on a TCP port so test clients
// (MQTT.js) can subscribe and see what was delivered.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

export type BrokerKind = 'aedes' | 'mosquitto';

/** A message published to the broker by someone other than the gateway's HTTPS path. */
export type BrokerMessageListener = (topic: string, qos: number, payload: Buffer, clientId: string | null, via: 'mqtt' | 'broker') => void;

export interface Broker {
  readonly kind: BrokerKind;
  readonly host: string;
  /** TCP port of the broker's MQTT listener (MQTT 3.1.1; mosquitto also MQTT 5). */
  readonly port: number;
  /** Publish an accepted HTTPS message; resolves once the broker took it (QoS 1: acknowledged). */
  publish(topic: string, payload: Buffer, qos: 0 | 1): Promise<void>;
  /** Hand a verified MQTT-over-WebSocket stream to the broker. */
  attach(stream: Duplex, request: IncomingMessage): void;
  /** Stop listening and close every connection. Idempotent. */
  stop(): Promise<void>;
}

export interface BrokerOptions {
  host: string;
  /** 0 = ephemeral. */
  port: number;
  onMessage: BrokerMessageListener;
}

/** Bound on simultaneous MQTT connections (TCP + WebSocket) to the embedded broker. */
export const MAX_BROKER_CONNECTIONS = 1024;
/** Bound on the largest MQTT packet the embedded broker and the gateway accept (AWS IoT: 128 KB payloads). */
export const MAX_MQTT_PACKET_BYTES = 128 * 1024 + 1024;
