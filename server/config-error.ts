/** A setting that cannot be used: one sentence naming the variable, never echoing a secret. */
export class ConfigError extends Error {}
