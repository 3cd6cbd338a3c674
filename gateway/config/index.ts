/** Configuration: the schema (single source of truth) and its loader. */
export { CONFIG_FLAGS, type ConfigSources, configFromArgs, loadConfig, splitConfigFlags } from './load.ts';
export {
  type Config,
  type ConfigInput,
  type ConfigKey,
  ConfigSchema,
  configKeys,
  envName,
} from './schema.ts';
