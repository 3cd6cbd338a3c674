/** Device simulators: BLE peripherals on a virtual radio (see docs/simulators.md). */
export * from './ble/index.ts';
