// The SLO spec: what "good" means for the service under test, and the suite of steps that puts it under
// load. One YAML file (slo.yaml), validated in full BEFORE any load starts, so a typo costs a second and not a
// twenty-minute run. Every problem is reported at once, with its path and what is allowed, on one line.
//
// Time: `durationS` and action times written in seconds are full-length; a profile's `timeScale` compresses
// them (quick runs). The scaling budgets (`reachMaxWithinS`, `backToMinWithinS`) are compressed the same way,
// because the spike and the cool-down they measure are. Recovery budgets (failover, self-healing) are NOT:
// a database failover or a pod restart takes the time it takes, whatever the profile.
//
// Pure: no files and no YAML. Reading slo.yaml lives beside its callers (harness/spec-file.ts), so the
// verifiers and reports can judge a stored run with nothing but this module and the timeline.
import { z } from 'zod';
import { errors } from './errors.ts';
import { BUILT_IN_SCENARIOS, ENGINE_NAMES } from './names.ts';

/** Built-in scenarios; anything else in `scenario` is a path to a user's scenario module or k6 script. */
export const BUILTIN_SCENARIOS = BUILT_IN_SCENARIOS;
export type BuiltinScenario = (typeof BUILTIN_SCENARIOS)[number];

/** Verdict groups a step can ask for explicitly. A `spike` step expects scaling unless it says otherwise. */
export const STEP_EXPECTATIONS = ['scaling'] as const;
export type StepExpectation = (typeof STEP_EXPECTATIONS)[number];

const NAME_PATTERN = /^[a-z][a-z0-9-]*$/;
const SECONDS_PATTERN = /^\d+(\.\d+)?s$/;
const SCRIPT_PATTERN = /\.(ts|js|mjs|cjs)$/;
const SCENARIO_ERROR = `scenario must be one of ${BUILT_IN_SCENARIOS.join(', ')}, a path to a scenario module (.ts/.js), or a *.k6.ts script (k6 engine)`;

/** A strict object whose "unknown key" error lists the keys that are allowed. */
function strict<S extends z.ZodRawShape>(shape: S) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')} (allowed: ${allowed})` : undefined),
  });
}

const positive = (what: string) => z.number({ error: `${what} must be a number > 0` }).positive({ error: `${what} must be a number > 0` });
const percent = (what: string) =>
  z.number({ error: `${what} must be a number from 0 to 100` }).min(0, { error: `${what} must be a number from 0 to 100` }).max(100, { error: `${what} must be a number from 0 to 100` });
const count = (what: string) => z.number({ error: `${what} must be an integer >= 0` }).int({ error: `${what} must be an integer >= 0` }).min(0, { error: `${what} must be an integer >= 0` });
const replicas = (what: string) => z.number({ error: `${what} must be an integer >= 1` }).int({ error: `${what} must be an integer >= 1` }).min(1, { error: `${what} must be an integer >= 1` });
const flag = (what: string) => z.boolean({ error: `${what} must be true or false` });
const name = (what: string) => z.string({ error: `${what} must be a string` }).regex(NAME_PATTERN, { error: `${what} must match ${NAME_PATTERN} (lower case, digits, dashes)` });

const SlosSchema = strict({
  latency: strict({ p95Ms: positive('p95Ms').default(200), windowS: positive('windowS').default(30), excludeFailover: flag('excludeFailover').default(true) }).prefault({}),
  errorRate: strict({ maxPercent: percent('maxPercent').default(1), excludeFailover: flag('excludeFailover').default(true) }).prefault({}),
  availability: strict({ minPercent: percent('minPercent').default(99.9), excludeFailover: flag('excludeFailover').default(true) }).prefault({}),
  scaling: strict({
    min: replicas('min').default(3),
    max: replicas('max').default(20),
    reachMaxWithinS: positive('reachMaxWithinS').default(300),
    // HPA's default scale-down stabilisation is 300 s, and each step down waits for it again (a pod's own idle
    // CPU keeps the first recommendation above min); three windows leave room for the step-downs.
    backToMinWithinS: positive('backToMinWithinS').default(900),
    // Millicores one replica burns at the HPA's CPU target: the Deployment's CPU request x the HPA's
    // averageUtilization (the reference service: 50m x 70 %). Sizes what a scaling step must drive.
    replicaCpuAtTargetM: positive('replicaCpuAtTargetM').default(35),
  })
    .prefault({})
    .refine((s) => s.min <= s.max, { error: 'min must be <= max', path: ['min'] }),
  failover: strict({ maxRecoveryS: positive('maxRecoveryS').default(30), maxLostWrites: count('maxLostWrites').default(0) }).prefault({}),
  rollout: strict({
    maxFailedRequests: count('maxFailedRequests').default(0),
    // Physical seconds (never compressed) a rolling update takes per replica under load on the target
    // (maxSurge 1, maxUnavailable 0: one new pod started and ready, one old one gone; 4.7 s measured on the
    // embedded cluster), and the seconds of load that must remain after it so the version switch is seen.
    replicaReadyS: positive('replicaReadyS').default(5),
    observeAfterS: positive('observeAfterS').default(10),
  }).prefault({}),
  selfHealing: strict({ maxReplaceS: positive('maxReplaceS').default(30) }).prefault({}),
  observability: strict({
    traces: z.boolean({ error: 'traces must be true or false' }).default(true),
    metrics: z.boolean({ error: 'metrics must be true or false' }).default(true),
    logs: z.boolean({ error: 'logs must be true or false' }).default(true),
    // The head-sampling ratio the harness asks of the service it deploys (OTEL_TRACES_SAMPLER
    // parentbased_traceidratio): every request still logs its trace id, a tenth of them record and export
    // spans, as production services are run. 1 traces every request, at ~1.5x the CPU per request.
    traceSampleRatio: z.number({ error: 'traceSampleRatio must be a number in (0, 1]' })
      .gt(0, { error: 'traceSampleRatio must be a number in (0, 1]' }).max(1, { error: 'traceSampleRatio must be a number in (0, 1]' }).default(0.1),
  }).prefault({}),
  saturation: strict({ maxDroppedPercent: percent('maxDroppedPercent').default(1), minAchievedPercent: percent('minAchievedPercent').default(95) }).prefault({}),
}).prefault({});

const ProfileSchema = strict({
  timeScale: z.number({ error: 'timeScale must be a number in (0, 1]' }).positive({ error: 'timeScale must be a number in (0, 1]' }).max(1, { error: 'timeScale must be a number in (0, 1]' }),
  autoscalerSyncS: positive('autoscalerSyncS').default(15),
  rateScale: positive('rateScale').default(1),
  /** Names of the suite steps this profile runs, in suite order; all when absent. */
  steps: z.array(name('a step name')).min(1, { error: 'steps must list at least one step' }).optional(),
});

/** When an action fires: a fraction of the step (0..1) or full-length seconds from the step start ("30s"). */
const AT_ERROR = 'at must be a fraction from 0 to 1 or seconds like "30s"';
const AtSchema = z.union([z.number().min(0, { error: AT_ERROR }).max(1, { error: AT_ERROR }), z.string().regex(SECONDS_PATTERN, { error: AT_ERROR })], { error: AT_ERROR });

const ActionSchema = z.discriminatedUnion(
  'do',
  [
    strict({ do: z.literal('kill'), at: AtSchema, pod: z.string().min(1).optional() }),
    strict({ do: z.literal('rollout'), at: AtSchema, version: z.string({ error: 'version must be a string, e.g. "1.1.0"' }).min(1) }),
    strict({ do: z.literal('failover'), at: AtSchema }),
    strict({ do: z.literal('scale'), at: AtSchema, replicas: replicas('replicas') }),
  ],
  { error: 'do must be one of: kill, rollout, failover, scale' },
);

const StepSchema = strict({
  name: name('name'),
  scenario: z
    .string({ error: SCENARIO_ERROR })
    .refine((s) => (BUILTIN_SCENARIOS as readonly string[]).includes(s) || SCRIPT_PATTERN.test(s), { error: SCENARIO_ERROR }),
  durationS: positive('durationS'),
  /** Iterations per second: `base` outside a spike, `peak` at its top (growth ramps base -> peak). */
  rates: strict({ base: positive('base'), peak: positive('peak') })
    .refine((r) => r.peak >= r.base, { error: 'peak must be >= base', path: ['peak'] })
    .default({ base: 20, peak: 200 }),
  /** Share of iterations that read, write (POST /api/orders) and burn CPU; relative, need not sum to 100. */
  weights: strict({ read: count('read').default(70), write: count('write').default(20), cpu: count('cpu').default(10) })
    .refine((w) => w.read + w.write + w.cpu > 0, { error: 'weights must not all be 0' })
    .prefault({}),
  /** CPU milliseconds a `cpu` request burns on the server (what drives the autoscaler). */
  cpuMs: count('cpuMs').default(20),
  actions: z.array(ActionSchema).default([]),
  expect: z.array(z.enum(STEP_EXPECTATIONS, { error: `expect entries must be one of: ${STEP_EXPECTATIONS.join(', ')}` })).optional(),
});

const DEFAULT_PROFILES = {
  // 34 min of full-length suite -> 7 min at a quarter of the rates. 0.2, not less: on real Kubernetes the
  // scaling budgets compress but the metrics pipeline (~15 s) and pod start-up do not.
  quick: { timeScale: 0.2, autoscalerSyncS: 3, rateScale: 0.25 },
  full: { timeScale: 1, autoscalerSyncS: 15, rateScale: 1 },
};

// Order matters: the rollout runs before the spike, at the minimum replicas, so it completes inside its step
// with load still running; the failover runs after the spike while the HPA brings the replicas back down.
const DEFAULT_STEPS: z.input<typeof StepSchema>[] = [
  { name: 'growth', scenario: 'growth', durationS: 300, rates: { base: 20, peak: 200 } },
  { name: 'rollout', scenario: 'sustained', durationS: 400, rates: { base: 20, peak: 20 }, actions: [{ do: 'rollout', at: 0.3, version: '1.1.0' }] },
  { name: 'spike', scenario: 'spike', durationS: 900, rates: { base: 20, peak: 200 }, weights: { read: 20, write: 10, cpu: 70 }, cpuMs: 25, actions: [{ do: 'kill', at: 0.5 }] },
  { name: 'failover', scenario: 'sustained', durationS: 450, rates: { base: 20, peak: 20 }, weights: { read: 50, write: 50, cpu: 0 }, actions: [{ do: 'failover', at: 0.3 }] },
];

export const SpecSchema = strict({
  version: z.literal(1, { error: 'version must be 1' }),
  slos: SlosSchema,
  profiles: z
    .record(name('a profile name'), ProfileSchema)
    .refine((p) => Object.keys(p).length > 0, { error: 'profiles must define at least one profile' })
    .prefault(DEFAULT_PROFILES),
  suite: strict({ steps: z.array(StepSchema).min(1, { error: 'suite.steps must list at least one step' }) }).prefault({ steps: DEFAULT_STEPS }),
  /** Which load engine drives the steps; `--engine` overrides it. */
  load: strict({
    engine: z.enum(ENGINE_NAMES, { error: `engine must be one of: ${ENGINE_NAMES.join(', ')}` }).default('embedded'),
    /**
     * Pods of the embedded engine driving each step together, each 1/N of the rate, as an Indexed Job in the
     * target cluster (kube, kind, embedded); 1 runs it in the harness's process. `--runners` overrides it.
     */
    runners: z.number({ error: 'runners must be an integer from 1 to 50' }).int({ error: 'runners must be an integer from 1 to 50' })
      .min(1, { error: 'runners must be an integer from 1 to 50' }).max(50, { error: 'runners must be an integer from 1 to 50' }).default(1),
    /** Where the runner pods go: their namespace (opted in like disruptions), nodeSelector and resources. */
    runnerPods: strict({
      namespace: z.string({ error: 'namespace must be a string' }).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: 'namespace must be a Kubernetes namespace name' }).optional(),
      nodeSelector: z.record(z.string(), z.string(), { error: 'nodeSelector must map label names to strings' }).optional(),
      resources: strict({
        requests: z.record(z.string(), z.string(), { error: 'requests must map resource names to quantities, e.g. cpu: 500m' }).optional(),
        limits: z.record(z.string(), z.string(), { error: 'limits must map resource names to quantities, e.g. memory: 256Mi' }).optional(),
      }).optional(),
    }).prefault({}),
  }).prefault({}),
}).superRefine((spec, ctx) => {
  for (const { path, message } of crossFieldIssues(spec)) ctx.addIssue({ code: 'custom', path, message });
});

type Loose = Record<string, unknown>;
const isObject = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Rules that span fields: unique step names, profile step lists naming real steps, actions inside their
 * step. Written against loose input because zod skips refinements once any field fails, and a user fixing
 * a spec should see these problems in the same message as the rest.
 */
function crossFieldIssues(input: unknown): { path: (string | number)[]; message: string }[] {
  const found: { path: (string | number)[]; message: string }[] = [];
  if (!isObject(input)) return found;
  const steps = isObject(input.suite) ? asArray(input.suite.steps) : [];
  const names = steps.map((s) => (isObject(s) && typeof s.name === 'string' ? s.name : undefined));
  names.forEach((n, i) => {
    if (n !== undefined && names.indexOf(n) !== i) found.push({ path: ['suite', 'steps', i, 'name'], message: `duplicate step name "${n}"` });
  });
  if (steps.length > 0 && isObject(input.profiles)) {
    for (const [profile, settings] of Object.entries(input.profiles)) {
      asArray(isObject(settings) ? settings.steps : undefined).forEach((s, i) => {
        if (typeof s === 'string' && !names.includes(s)) {
          found.push({ path: ['profiles', profile, 'steps', i], message: `unknown step "${s}" (allowed: ${names.filter(Boolean).join(', ')})` });
        }
      });
    }
  }
  steps.forEach((step, i) => {
    if (!isObject(step) || typeof step.durationS !== 'number') return;
    asArray(step.actions).forEach((action, j) => {
      if (isObject(action) && typeof action.at === 'string' && SECONDS_PATTERN.test(action.at) && parseFloat(action.at) > (step.durationS as number)) {
        found.push({ path: ['suite', 'steps', i, 'actions', j, 'at'], message: `at ${action.at} is after the end of the step (durationS ${step.durationS})` });
      }
    });
  });
  return found;
}

export type SloSpec = z.infer<typeof SpecSchema>;
export type SpecSlos = SloSpec['slos'];
export type SpecStep = SloSpec['suite']['steps'][number];
export type SpecAction = SpecStep['actions'][number];
export type SpecProfile = SloSpec['profiles'][string];

export interface ResolvedAction {
  do: SpecAction['do'];
  /** Seconds from the step start, already scaled by the profile. */
  atS: number;
  version?: string;
  pod?: string;
  replicas?: number;
}

export interface ResolvedStep {
  name: string;
  /** A built-in scenario name, or an absolute path to the user's k6 script. */
  scenario: string;
  isScript: boolean;
  /** Scaled by the profile's timeScale. */
  durationS: number;
  /** Scaled by the profile's rateScale. */
  rates: { base: number; peak: number };
  weights: { read: number; write: number; cpu: number };
  cpuMs: number;
  actions: ResolvedAction[];
  /** Verdict groups this step asks for (beyond the ones that always apply or follow from its actions). */
  expect: StepExpectation[];
}

export interface ResolvedSuite {
  profile: string;
  timeScale: number;
  autoscalerSyncS: number;
  rateScale: number;
  slos: SpecSlos;
  steps: ResolvedStep[];
}

/** What a step expects: its own `expect` list, or scaling for a spike step that gives none. */
export function stepExpectations(step: Pick<SpecStep, 'scenario' | 'expect'>): StepExpectation[] {
  if (step.expect) return [...step.expect];
  return step.scenario === 'spike' ? ['scaling'] : [];
}

type Issue = z.core.$ZodIssue;

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

/** One readable line per problem; zod's default texts lack the allowed values in a few cases. */
function describeIssue(issue: Issue): string {
  const at = formatPath(issue.path);
  if (issue.code === 'invalid_key') {
    const inner = issue.issues[0]?.message ?? issue.message;
    return `${at}: invalid name: ${inner}`;
  }
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) return `${at}: missing (${issue.message})`;
  return `${at}: ${issue.message}`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Options of {@link validateSpec}. */
export interface ValidateOptions {
  /**
   * Maps a `scenario` that is not built in (a path to the user's script) to the path the run uses, e.g.
   * resolved against the spec file's folder. Identity when absent.
   */
  resolveScript?: (scenario: string) => string;
}

/**
 * A parsed spec document (plain data, e.g. from YAML) -> validated, frozen spec. `source` names the document
 * in messages. Every problem is reported at once, one line.
 */
export function validateSpec(raw: unknown, source: string, options: ValidateOptions = {}): SloSpec {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw errors.SLO_ERR_SPEC_INVALID(`${source}: the spec must be a YAML mapping with at least "version: 1"`, 'see slo.yaml for the shape');
  }
  const parsed = SpecSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(describeIssue);
    // A failed schema skipped the cross-field rules; add theirs so one message lists every problem.
    for (const { path, message } of crossFieldIssues(raw)) lines.push(`${formatPath(path)}: ${message}`);
    throw errors.SLO_ERR_SPEC_INVALID(`${source}: ${[...new Set(lines)].join('; ')}`, 'see slo.yaml for the shape and allowed values');
  }
  const spec = parsed.data;
  const resolveScript = options.resolveScript;
  if (resolveScript) {
    for (const step of spec.suite.steps) {
      if (!(BUILTIN_SCENARIOS as readonly string[]).includes(step.scenario)) step.scenario = resolveScript(step.scenario);
    }
  }
  return deepFreeze(spec);
}

/** The built-in defaults: the same values slo.yaml at the repository root spells out with comments. */
export function defaultSpec(): SloSpec {
  return validateSpec({ version: 1 }, '<built-in defaults>');
}

/** Seconds from step start: fractions of the scaled step, or full-length seconds scaled like the step. */
function actionSeconds(at: number | string, step: SpecStep, timeScale: number): number {
  return typeof at === 'number' ? at * step.durationS * timeScale : parseFloat(at) * timeScale;
}

/** The steps a profile runs, with times and rates already scaled. */
export function resolveProfile(spec: SloSpec, profile: string): ResolvedSuite {
  const settings = Object.hasOwn(spec.profiles, profile) ? spec.profiles[profile] : undefined;
  if (!settings) {
    throw errors.SLO_ERR_CLI_USAGE(`unknown profile "${profile}"; valid profiles: ${Object.keys(spec.profiles).join(', ')}`, 'pass --profile with one of them');
  }
  const selected = settings.steps ? spec.suite.steps.filter((s) => settings.steps?.includes(s.name)) : spec.suite.steps;
  const steps = selected.map((step): ResolvedStep => ({
    name: step.name,
    scenario: step.scenario,
    isScript: !(BUILTIN_SCENARIOS as readonly string[]).includes(step.scenario),
    durationS: step.durationS * settings.timeScale,
    rates: { base: step.rates.base * settings.rateScale, peak: step.rates.peak * settings.rateScale },
    weights: { ...step.weights },
    cpuMs: step.cpuMs,
    actions: step.actions.map((a): ResolvedAction => ({
      do: a.do,
      atS: actionSeconds(a.at, step, settings.timeScale),
      ...('version' in a ? { version: a.version } : {}),
      ...('pod' in a && a.pod !== undefined ? { pod: a.pod } : {}),
      ...('replicas' in a ? { replicas: a.replicas } : {}),
    })),
    expect: stepExpectations(step),
  }));
  return { profile, timeScale: settings.timeScale, autoscalerSyncS: settings.autoscalerSyncS, rateScale: settings.rateScale, slos: spec.slos, steps };
}
