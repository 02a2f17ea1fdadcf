// A faithful port of the Kubernetes HorizontalPodAutoscaler (autoscaling/v2) decision for one CPU
// Utilization metric: the replica calculator (pkg/controller/podautoscaler/replica_calculator.go,
// GetResourceReplicas + groupPods + GetResourceUtilizationRatio) and the behavior normalisation of
// horizontal.go (stabilizeRecommendationWithBehaviors, convertDesiredReplicasWithBehaviorRate,
// calculateScale{Up,Down}Limit..., storeScaleEvent). Everything here is pure: time comes in as `now`, and the
// controller's memory (recommendations, scale events) comes in and goes out as `HpaMemory`. The loop that
// measures CPU and applies the decision lives in hpa-loop.ts.

export type PolicyType = 'Pods' | 'Percent';
export type SelectPolicy = 'Max' | 'Min' | 'Disabled';

export interface ScalingPolicy {
  type: PolicyType;
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: SelectPolicy;
  policies: ScalingPolicy[];
}

export interface HpaBehavior {
  scaleUp: ScalingRules;
  scaleDown: ScalingRules;
}

/** Upstream defaults (pkg/apis/autoscaling/v2/defaults.go). */
export const DEFAULT_BEHAVIOR: HpaBehavior = {
  scaleUp: {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  },
  scaleDown: {
    stabilizationWindowSeconds: 300,
    selectPolicy: 'Max',
    policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
  },
};

export interface HpaSpec {
  minReplicas: number;
  maxReplicas: number;
  /** Target average CPU utilization, percent of the request. */
  targetCpuUtilization: number;
  behavior: HpaBehavior;
  /** --horizontal-pod-autoscaler-tolerance (0.1 upstream). */
  tolerance: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period (5 min upstream). */
  cpuInitializationPeriodMs: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay (30 s upstream). */
  initialReadinessDelayMs: number;
}

export const DEFAULT_SPEC: HpaSpec = {
  minReplicas: 3,
  maxReplicas: 20,
  targetCpuUtilization: 70,
  behavior: DEFAULT_BEHAVIOR,
  tolerance: 0.1,
  cpuInitializationPeriodMs: 5 * 60_000,
  initialReadinessDelayMs: 30_000,
};

/** What the controller sees of one pod: its status and (maybe) its metrics-server sample. */
export interface PodView {
  name: string;
  phase: 'Pending' | 'Running' | 'Failed';
  /** Being deleted (deletionTimestamp set): ignored entirely. */
  deleting: boolean;
  startTime: number | null;
  /** The Ready condition; null when the pod has none yet. */
  ready: { status: boolean; lastTransitionTime: number } | null;
  /** CPU request in millicores. */
  requestMilli: number;
  /** Average CPU usage over `windowMs` ending at `timestamp`; absent when metrics-server has none. */
  metric?: { milli: number; timestamp: number; windowMs: number };
}

export interface ReplicaCalculation {
  replicas: number;
  /** Average utilization (percent of request) of the pods that had metrics, truncated like upstream. */
  utilization: number | null;
}

interface Grouped {
  readyPodCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

function groupPods(pods: readonly PodView[], spec: HpaSpec, now: number): Grouped {
  const grouped: Grouped = { readyPodCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of pods) {
    if (pod.deleting || pod.phase === 'Failed') {
      grouped.ignored.add(pod.name);
      continue;
    }
    if (pod.phase === 'Pending') {
      grouped.unready.add(pod.name);
      continue;
    }
    const metric = pod.metric;
    if (!metric) {
      grouped.missing.add(pod.name);
      continue;
    }
    let unready: boolean;
    if (pod.ready === null || pod.startTime === null) {
      unready = true;
    } else if (pod.startTime + spec.cpuInitializationPeriodMs > now) {
      // Still initialising: ignore the sample if unready, or if no full metric window since the last transition.
      unready = !pod.ready.status || metric.timestamp < pod.ready.lastTransitionTime + metric.windowMs;
    } else {
      // Ignore the metric if the pod is unready and has never been ready.
      unready = !pod.ready.status && pod.startTime + spec.initialReadinessDelayMs > pod.ready.lastTransitionTime;
    }
    if (unready) {
      grouped.unready.add(pod.name);
      continue;
    }
    grouped.readyPodCount++;
  }
  return grouped;
}

/** metricsclient.GetResourceUtilizationRatio: note the integer percent, as upstream. */
function utilizationRatio(usage: ReadonlyMap<string, number>, requests: ReadonlyMap<string, number>, target: number) {
  let usageTotal = 0;
  let requestTotal = 0;
  for (const [name, milli] of usage) {
    const request = requests.get(name);
    if (request === undefined) continue;
    usageTotal += milli;
    requestTotal += request;
  }
  if (requestTotal === 0) return null;
  const utilization = Math.trunc((usageTotal * 100) / requestTotal);
  return { ratio: utilization / target, utilization };
}

/**
 * GetResourceReplicas: the replica count one CPU-utilization metric asks for, before min/max and behavior.
 * Returns null where upstream returns an error (no pods, or no usable metrics): the controller then keeps
 * the current count.
 */
export function calculateReplicas(currentReplicas: number, pods: readonly PodView[], spec: HpaSpec, now: number): ReplicaCalculation | null {
  if (pods.length === 0) return null;
  const { readyPodCount, unready, missing, ignored } = groupPods(pods, spec, now);
  const usage = new Map<string, number>();
  for (const pod of pods) {
    if (pod.metric && !ignored.has(pod.name) && !unready.has(pod.name)) usage.set(pod.name, pod.metric.milli);
  }
  if (usage.size === 0) return null;
  const requests = new Map(pods.map((pod) => [pod.name, pod.requestMilli]));
  const first = utilizationRatio(usage, requests, spec.targetCpuUtilization);
  if (!first) return null;
  const { ratio: usageRatio, utilization } = first;

  const scaleUpWithUnready = unready.size > 0 && usageRatio > 1.0;
  if (!scaleUpWithUnready && missing.size === 0) {
    if (Math.abs(1.0 - usageRatio) <= spec.tolerance) return { replicas: currentReplicas, utilization };
    return { replicas: Math.ceil(usageRatio * readyPodCount), utilization };
  }

  if (missing.size > 0) {
    if (usageRatio < 1.0) {
      // Scale-down: a pod without metrics is assumed to use 100 % of its request (or the target if higher).
      const fallback = Math.max(100, spec.targetCpuUtilization);
      for (const name of missing) usage.set(name, ((requests.get(name) ?? 0) * fallback) / 100);
    } else if (usageRatio > 1.0) {
      // Scale-up: it is assumed to use nothing.
      for (const name of missing) usage.set(name, 0);
    }
  }
  if (scaleUpWithUnready) {
    for (const name of unready) usage.set(name, 0);
  }

  const second = utilizationRatio(usage, requests, spec.targetCpuUtilization);
  if (!second) return { replicas: currentReplicas, utilization };
  const newRatio = second.ratio;
  if (Math.abs(1.0 - newRatio) <= spec.tolerance || (usageRatio < 1.0 && newRatio > 1.0) || (usageRatio > 1.0 && newRatio < 1.0)) {
    // Too small a change, or the assumptions flipped the direction: do nothing.
    return { replicas: currentReplicas, utilization };
  }
  const newReplicas = Math.ceil(newRatio * usage.size);
  if ((newRatio < 1.0 && newReplicas > currentReplicas) || (newRatio > 1.0 && newReplicas < currentReplicas)) {
    return { replicas: currentReplicas, utilization };
  }
  return { replicas: newReplicas, utilization };
}

interface TimedRecommendation {
  recommendation: number;
  timestamp: number;
}

interface TimedScaleEvent {
  replicaChange: number;
  timestamp: number;
}

/** What the controller remembers between syncs for one HPA. */
export interface HpaMemory {
  recommendations: TimedRecommendation[];
  scaleUpEvents: TimedScaleEvent[];
  scaleDownEvents: TimedScaleEvent[];
}

export const emptyMemory = (): HpaMemory => ({ recommendations: [], scaleUpEvents: [], scaleDownEvents: [] });

function stabilize(memory: HpaMemory, behavior: HpaBehavior, current: number, desired: number, now: number): { recommendation: number; memory: HpaMemory } {
  const upCutoff = now - behavior.scaleUp.stabilizationWindowSeconds * 1000;
  const downCutoff = now - behavior.scaleDown.stabilizationWindowSeconds * 1000;
  let upRecommendation = desired;
  let downRecommendation = desired;
  let oldSampleIndex = -1;
  memory.recommendations.forEach((rec, index) => {
    if (rec.timestamp > upCutoff) upRecommendation = Math.min(rec.recommendation, upRecommendation);
    if (rec.timestamp > downCutoff) downRecommendation = Math.max(rec.recommendation, downRecommendation);
    if (rec.timestamp < upCutoff && rec.timestamp < downCutoff) oldSampleIndex = index;
  });
  let recommendation = current;
  if (recommendation < upRecommendation) recommendation = upRecommendation;
  if (recommendation > downRecommendation) recommendation = downRecommendation;

  const recommendations = [...memory.recommendations];
  const sample = { recommendation: desired, timestamp: now };
  if (oldSampleIndex >= 0) recommendations[oldSampleIndex] = sample;
  else recommendations.push(sample);
  return { recommendation, memory: { ...memory, recommendations } };
}

function changeInPeriod(periodSeconds: number, events: readonly TimedScaleEvent[], now: number): number {
  const cutoff = now - periodSeconds * 1000;
  return events.reduce((sum, event) => (event.timestamp > cutoff ? sum + event.replicaChange : sum), 0);
}

function scaleUpLimit(current: number, memory: HpaMemory, rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const policy of rules.policies) {
    const periodStart = current - changeInPeriod(policy.periodSeconds, memory.scaleUpEvents, now) + changeInPeriod(policy.periodSeconds, memory.scaleDownEvents, now);
    // Rounded up so that a small Percent still adds a pod (upstream comment).
    const proposed = policy.type === 'Pods' ? periodStart + policy.value : Math.ceil(periodStart * (1 + policy.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

function scaleDownLimit(current: number, memory: HpaMemory, rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const policy of rules.policies) {
    const periodStart = current - changeInPeriod(policy.periodSeconds, memory.scaleUpEvents, now) + changeInPeriod(policy.periodSeconds, memory.scaleDownEvents, now);
    // int32(float64(...)) truncates toward zero upstream.
    const proposed = policy.type === 'Pods' ? periodStart - policy.value : Math.trunc(periodStart * (1 - policy.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

function limitRate(memory: HpaMemory, spec: HpaSpec, current: number, desired: number, now: number): number {
  if (desired > current) {
    let limit = scaleUpLimit(current, memory, spec.behavior.scaleUp, now);
    if (limit < current) limit = current;
    const maximum = Math.min(spec.maxReplicas, limit);
    return desired > maximum ? maximum : desired;
  }
  if (desired < current) {
    let limit = scaleDownLimit(current, memory, spec.behavior.scaleDown, now);
    if (limit > current) limit = current;
    const minimum = Math.max(spec.minReplicas, limit);
    return desired < minimum ? minimum : desired;
  }
  return desired;
}

function longestPolicyPeriodMs(rules: ScalingRules): number {
  return Math.max(0, ...rules.policies.map((p) => p.periodSeconds)) * 1000;
}

/** storeScaleEvent: remember how many pods a rescale added or removed, reusing an expired slot. */
function storeScaleEvent(memory: HpaMemory, behavior: HpaBehavior, previous: number, next: number, now: number): HpaMemory {
  const up = next > previous;
  const rules = up ? behavior.scaleUp : behavior.scaleDown;
  const cutoff = now - longestPolicyPeriodMs(rules);
  const events = [...(up ? memory.scaleUpEvents : memory.scaleDownEvents)];
  const event = { replicaChange: Math.abs(next - previous), timestamp: now };
  const oldIndex = events.findIndex((e) => e.timestamp < cutoff);
  if (oldIndex >= 0) events[oldIndex] = event;
  else events.push(event);
  return up ? { ...memory, scaleUpEvents: events } : { ...memory, scaleDownEvents: events };
}

export interface HpaDecision {
  /** The replica count to scale to (equal to current when nothing changes). */
  desired: number;
  /** What the metric alone asked for, before stabilisation and rate limits. */
  recommended: number;
  utilization: number | null;
  memory: HpaMemory;
}

/**
 * One sync of reconcileAutoscaler for a CPU-utilization HPA with behavior: out-of-range counts are clamped
 * first, otherwise the metric's recommendation is stabilised and rate-limited. The returned memory must be
 * passed to the next call.
 */
export function decide(spec: HpaSpec, memory: HpaMemory, currentReplicas: number, pods: readonly PodView[], now: number): HpaDecision {
  let desired: number;
  let recommended = currentReplicas;
  let utilization: number | null = null;
  let next = memory;
  if (currentReplicas === 0 && spec.minReplicas !== 0) {
    // Scaling is disabled for a target scaled to zero by hand.
    return { desired: 0, recommended: 0, utilization: null, memory };
  }
  if (currentReplicas > spec.maxReplicas) {
    desired = spec.maxReplicas;
  } else if (currentReplicas < spec.minReplicas) {
    desired = spec.minReplicas;
  } else {
    const calculated = calculateReplicas(currentReplicas, pods, spec, now);
    recommended = calculated?.replicas ?? currentReplicas;
    utilization = calculated?.utilization ?? null;
    const stabilized = stabilize(next, spec.behavior, currentReplicas, recommended, now);
    next = stabilized.memory;
    desired = limitRate(next, spec, currentReplicas, stabilized.recommendation, now);
  }
  if (desired !== currentReplicas) next = storeScaleEvent(next, spec.behavior, currentReplicas, desired, now);
  return { desired, recommended, utilization, memory: next };
}
