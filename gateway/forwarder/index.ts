/** The forwarder component and the factory that wires it to the cloud-bridge. */
export {
  Forwarder,
  type ForwarderEvent,
  type ForwarderOptions,
  type ForwarderStats,
  type LinkSource,
  type ReadingSender,
} from './forwarder.ts';
export { type CloudBridge, type CloudBridgeOptions, createCloudBridge } from './wiring.ts';
