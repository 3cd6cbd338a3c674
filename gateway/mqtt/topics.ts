/**
 * The medgw MQTT topic tree (one source of truth for the broker hooks, the external client and the
 * simulated devices):
 *   medgw/v1/devices/{deviceId}/measurements/{json|cbor|protobuf}   device → gateway, QoS 1
 *   medgw/v1/devices/{deviceId}/receipts                            gateway → device, QoS 1
 */

export const TOPIC_ROOT = 'medgw/v1/devices';
export const ENCODINGS = ['json', 'cbor', 'protobuf'] as const;
export type PayloadEncoding = (typeof ENCODINGS)[number];

/** Device ids as the registry accepts them: letters, digits and . _ : - (no MQTT wildcard or separator). */
const DEVICE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function measurementTopic(deviceId: string, encoding: PayloadEncoding): string {
  return `${TOPIC_ROOT}/${deviceId}/measurements/${encoding}`;
}

export function receiptTopic(deviceId: string): string {
  return `${TOPIC_ROOT}/${deviceId}/receipts`;
}

/** Subscription pattern covering every device's measurements (used with a shared subscription group). */
export const ALL_MEASUREMENTS = `${TOPIC_ROOT}/+/measurements/+`;

export function isDeviceId(id: string): boolean {
  return DEVICE_ID.test(id);
}

/** Parses a measurement topic; undefined when the topic is not one. */
export function parseMeasurementTopic(
  topic: string,
): { readonly deviceId: string; readonly encoding: PayloadEncoding } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 6) return undefined;
  const [a, b, c, deviceId, m, encoding] = parts;
  if (`${a}/${b}/${c}` !== TOPIC_ROOT || m !== 'measurements' || deviceId === undefined) return undefined;
  if (!isDeviceId(deviceId)) return undefined;
  const enc = ENCODINGS.find((e) => e === encoding);
  return enc ? { deviceId, encoding: enc } : undefined;
}
