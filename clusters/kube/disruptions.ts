// Destructive actions (rollout, pod kill, database failover) run only in namespaces whose owner opted in
// with a label, so pointing the harness at the wrong context cannot take down someone else's service.
import { errors } from '../../contract/errors.ts';

export const DISRUPTION_LABEL = 'slo-harness.io/disruptions';
export const DISRUPTION_VALUE = 'allowed';
export const DESTRUCTIVE_ACTIONS = ['rollout', 'kill', 'failover'] as const;

export function disruptionsAllowed(labels: Record<string, string> | undefined): boolean {
  return labels?.[DISRUPTION_LABEL] === DISRUPTION_VALUE;
}

export function disruptionRefusal(namespace: string, action: string) {
  return errors.SLO_ERR_DISRUPTION_NOT_ALLOWED(
    `refusing ${action}: namespace ${namespace} lacks label ${DISRUPTION_LABEL}=${DISRUPTION_VALUE}`,
    `if disrupting it is fine, run: kubectl label namespace ${namespace} ${DISRUPTION_LABEL}=${DISRUPTION_VALUE}`);
}
