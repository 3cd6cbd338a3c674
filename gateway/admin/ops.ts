/**
 * The admin operations and their request shapes live with the operations service (gateway/ops/store.ts);
 * this module keeps the names the admin API, its client and the command line import.
 */
export * from '../ops/store.ts';
