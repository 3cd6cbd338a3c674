/** The registry: lowdb file (or memory) implementation, secret hashing, shared operations. */
export { addDevice, addPatient, assignDevice, publicDevice } from './operations.ts';
export type { RegistryData } from './records.ts';
export { checkId, LowRegistry } from './registry.ts';
export { generateSecret, hashSecret, VerifiedSecrets, verifySecret, verifySecretAsync } from './secrets.ts';
