/** The gateway config: schema, loading with environment overrides, generated sample (docs/configuration.md). */
export { loadConfig, parseConfig, type ConfigResult, type ConfigSourceOptions } from "./load.js";
export { CoreConfigSchema, gatewayConfigSchema, adapterConfigsOf, type AdapterConfigSchema, type CoreConfig, type GatewayConfig } from "./schema.js";
export { DEFAULT_CONFIG_NAME, DEFAULT_CONFIG_YAML } from "./default.js";
export { sampleConfig, configurationMarkdown } from "./sample.js";
export { envName, ENV_PREFIX } from "./env.js";
export { ConfigError, formatProblem, type Problem } from "./problems.js";
