/**
 * The built-in config, used when no file is given (the demo, tests): local Redis, the example
 * mappings, the admin API off (it would need a token). Environment overrides still apply, e.g.
 * `PARLEY_ADMIN__ENABLED=true PARLEY_ADMIN__TOKEN_FILE=/run/secrets/admin`.
 */
export const DEFAULT_CONFIG_NAME = "<built-in default config>";

export const DEFAULT_CONFIG_YAML = `# Parley's built-in default config (src/config/default.ts)
mappings: mappings/domains.example.yaml
redis:
  url: redis://127.0.0.1:6379
  keyPrefix: "parley:"
admin:
  enabled: false
log:
  level: info
adapters: {}
`;
