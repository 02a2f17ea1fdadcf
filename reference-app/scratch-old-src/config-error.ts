// The service's one error of its own: a bad environment variable. It is printed as one line naming the
// variable and what it allows, and the process exits 2 (bad input) without a stack trace. The code keeps
// the name operators already grep replica logs for; the service does not share the harness's catalog, so
// the image carries nothing of the harness.

export const CONFIG_ERROR_CODE = 'SLO_ERR_APP_CONFIG';
/** Bad input, as in the harness's exit codes (0 ok, 1 failed, 2 bad input, 3 environment broke). */
export const CONFIG_EXIT_CODE = 2;

export class ConfigError extends Error {
  readonly code = CONFIG_ERROR_CODE;
  readonly exitCode = CONFIG_EXIT_CODE;

  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }

  /** What server.ts prints: `SLO_ERR_APP_CONFIG: PORT must be an integer from 0 to 65535, got "abc"`. */
  oneLine(): string {
    return `${this.code}: ${this.message}`;
  }
}

/** Matched on the code, not instanceof, so a second copy of this module still counts. */
export function isConfigError(value: unknown): value is ConfigError {
  return typeof value === 'object' && value !== null && (value as { code?: unknown }).code === CONFIG_ERROR_CODE
    && typeof (value as { oneLine?: unknown }).oneLine === 'function';
}
