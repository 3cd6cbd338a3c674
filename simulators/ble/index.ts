/** The BLE simulators: virtual radio, simulated peripherals, their encoders and faults. */

export { AND_VENDOR, SimAndUa651, UA651_DISCOVERY_BUDGET } from './and-ua651.ts';
export { BCS, type BodyCompositionRecord, encodeBodyComposition } from './body-composition.ts';
export {
  CGM_ATT,
  CGM_OPS,
  CGMS,
  type CgmOptions,
  type CgmRecord,
  defaultGlucose,
  e2eCrc,
  encodeCgmMeasurement,
  encodeCgmRecord,
  RACP_FILTER_TIME_OFFSET,
  SimCgm,
} from './cgm.ts';
export { CONTOUR_PRIVATE, SimContourNextOne } from './contour-next-one.ts';
export { BLS, type BloodPressureRecord, encodeBloodPressure, mmHgToKpa, SimCuff } from './cuff.ts';
export { createDemoBench, DEMO_ADDRESSES, type DemoBench } from './demo.ts';
export { ByteWriter, floatRaw, type SimNumber, type SpecialValue, sfloatRaw, simValue } from './encode.ts';
export type { SimFaults } from './faults.ts';
export {
  encodeGlucoseContext,
  encodeGlucoseMeasurement,
  GLS,
  type GlucoseRecord,
  mgdl,
  mmolL,
  RACP,
  SimGlucometer,
} from './glucometer.ts';
export { SimMedisanaBu5xx } from './medisana-bu5xx.ts';
export { SimOmronX4Smart } from './omron-x4-smart.ts';
export {
  encodeVerioPacket,
  SimOneTouchVerio,
  VERIO_REFUSED,
  VERIO_SIM,
  type VerioRecord,
  verioSimCrc,
} from './onetouch-verio.ts';
export { encodeContinuous, encodeSpotCheck, PLX, SimOximeter } from './oximeter.ts';
export { ATT, AttError, SimPeripheral } from './peripheral.ts';
export { createSimNoble, createVirtualRadio, HCI_REASON, VirtualBindings, VirtualRadio } from './radio.ts';
export { type BodyReading, SBF72_VENDOR, SimSanitasSbf72 } from './sanitas-sbf72.ts';
export { encodeWeightMeasurement, SimScale, UCP, UDS, UNKNOWN_USER, WSS } from './scale.ts';
export { encodeTemperature, HTS, SimThermometer } from './thermometer.ts';
