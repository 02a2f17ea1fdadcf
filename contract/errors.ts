// The one catalog of errors the harness raises on purpose. Callers match on `err.code`, never on
// `instanceof`; the CLI maps `exitCode` to the process exit status. docs/ERRORS.md lists every code and a
// test keeps the two in sync.
//
// Exit codes: 0 all SLOs met, 1 an SLO failed, 2 bad input, 3 the environment broke (or the run was invalid).

export type ExitCode = 0 | 1 | 2 | 3;

export class SloError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;

  constructor(code: string, message: string, exitCode: ExitCode, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SloError';
    this.code = code;
    this.exitCode = exitCode;
    this.hint = hint;
  }

  /** One line for a terminal: what failed, and the fix when there is one. */
  oneLine(): string {
    return this.hint ? `${this.code}: ${this.message} (${this.hint})` : `${this.code}: ${this.message}`;
  }
}

export interface ErrorDefinition {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly summary: string;
  (message: string, hint?: string, options?: { cause?: unknown }): SloError;
}

function define(code: string, exitCode: ExitCode, summary: string): ErrorDefinition {
  const make = (message: string, hint?: string, options?: { cause?: unknown }) =>
    new SloError(code, message, exitCode, hint, options);
  return Object.assign(make, { code, exitCode, summary }) as ErrorDefinition;
}

export const errors = {
  // Bad input: exit 2
  SLO_ERR_CLI_USAGE: define('SLO_ERR_CLI_USAGE', 2, 'A flag or argument of the slo command is wrong.'),
  SLO_ERR_SPEC_INVALID: define('SLO_ERR_SPEC_INVALID', 2, 'The SLO spec (slo.yaml) does not match the schema.'),
  SLO_ERR_SPEC_UNSHOWABLE: define('SLO_ERR_SPEC_UNSHOWABLE', 2, 'A step of the suite cannot show what it is judged on (too short for its rollout to complete, too little CPU to scale to max).'),
  SLO_ERR_SPEC_NOT_FOUND: define('SLO_ERR_SPEC_NOT_FOUND', 2, 'The SLO spec file given with --config cannot be read.'),
  SLO_ERR_CLUSTER_UNKNOWN: define('SLO_ERR_CLUSTER_UNKNOWN', 2, 'The --cluster name is not a registered adapter.'),
  SLO_ERR_SCENARIO_UNKNOWN: define('SLO_ERR_SCENARIO_UNKNOWN', 2, 'A scenario name or --scenario file does not exist.'),
  SLO_ERR_STEP_UNKNOWN: define('SLO_ERR_STEP_UNKNOWN', 2, 'A --steps name is not a step of the suite.'),
  SLO_ERR_RUN_DIR_INVALID: define('SLO_ERR_RUN_DIR_INVALID', 2, 'A run folder is missing or holds no readable timeline.'),
  SLO_ERR_TIMELINE_INVALID: define('SLO_ERR_TIMELINE_INVALID', 2, 'A timeline record does not match the timeline schema.'),
  SLO_ERR_ACTION_UNSUPPORTED: define('SLO_ERR_ACTION_UNSUPPORTED', 2, 'The cluster adapter cannot carry out an action the suite asks for.'),
  SLO_ERR_REPORT_INVALID: define('SLO_ERR_REPORT_INVALID', 2, 'A report.json (e.g. the --baseline) is unreadable or not a known report schema version.'),
  SLO_ERR_DISRUPTION_NOT_ALLOWED: define('SLO_ERR_DISRUPTION_NOT_ALLOWED', 2, 'A destructive action targets a namespace that has not opted in.'),

  // The environment broke: exit 3
  SLO_ERR_ENV_MISSING_TOOL: define('SLO_ERR_ENV_MISSING_TOOL', 3, 'A required program (k6, PostgreSQL, containerd, ...) is missing and cannot be installed here.'),
  SLO_ERR_ENV_INSTALL_FAILED: define('SLO_ERR_ENV_INSTALL_FAILED', 3, 'Installing a required program failed.'),
  SLO_ERR_ENV_PROCESS_FAILED: define('SLO_ERR_ENV_PROCESS_FAILED', 3, 'A process the environment needs exited or never became ready.'),
  SLO_ERR_ENV_TIMEOUT: define('SLO_ERR_ENV_TIMEOUT', 3, 'The environment did not become ready in time.'),
  SLO_ERR_KUBE_API: define('SLO_ERR_KUBE_API', 3, 'The Kubernetes API refused or failed a call.'),
  SLO_ERR_LOAD_ABORTED: define('SLO_ERR_LOAD_ABORTED', 3, 'The load generator crashed, was killed or wrote malformed output.'),
  SLO_ERR_LOAD_SATURATED: define('SLO_ERR_LOAD_SATURATED', 3, 'The load generator could not produce the asked rate, so the run is invalid.'),
  SLO_ERR_INTERNAL: define('SLO_ERR_INTERNAL', 3, 'An unexpected error inside the harness itself (a bug; SLO_DEBUG=1 shows the stack).'),
  SLO_ERR_RUN_ABORTED: define('SLO_ERR_RUN_ABORTED', 3, 'The run was interrupted (Ctrl-C, SIGTERM or a crash) and its report is marked aborted.'),
} as const;

export type ErrorCode = keyof typeof errors;

export function isSloError(value: unknown): value is SloError {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'string'
    && (value as { code: string }).code.startsWith('SLO_ERR_') && 'exitCode' in value;
}
