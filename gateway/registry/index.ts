/** The registry: lowdb file (or memory) implementation, secret hashing, shared operations. */
export { addDevice, addPatient, assignDevice, publicDevice } from './operations.ts';
export { checkId, LowRegistry, type RegistryData } from './registry.ts';
export { generateSecret, hashSecret, VerifiedSecrets, verifySecret, verifySecretAsync } from './secrets.ts';
