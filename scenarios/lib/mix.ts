// The weighted request mix against the reference service, shared by every built-in scenario: reads of an
// item, writes of an order (idempotent, acknowledged ids audited after a failover), and CPU work (what drives
// the autoscaler). Pure data; the engines carry it out.
import { IDEMPOTENCY_KEY_HEADER, REQUEST_NAMES } from '../../contract/names.ts';
import type { RequestSpec, ScenarioParams } from './scenario.ts';

export function referenceMix(params: Pick<ScenarioParams, 'weights' | 'cpuMs'>): RequestSpec[] {
  return [
    { name: REQUEST_NAMES.read, weight: params.weights.read, method: 'GET', path: '/api/items/{int:1:1000}', expectStatus: [200] },
    {
      name: REQUEST_NAMES.write, weight: params.weights.write, method: 'POST', path: '/api/orders',
      headers: { 'Content-Type': 'application/json' },
      body: '{"itemId":{int:1:1000},"quantity":{int:1:5}}',
      idempotencyKey: true,
      ackJsonField: 'id',
      // 201 created; 200 when a retry with the same Idempotency-Key finds the order already there.
      expectStatus: [200, 201],
    },
    { name: REQUEST_NAMES.cpu, weight: params.weights.cpu, method: 'GET', path: `/api/cpu?ms=${params.cpuMs}`, expectStatus: [200] },
  ];
}

/** Named here so a scenario's own mix can reuse the header name the service reads. */
export { IDEMPOTENCY_KEY_HEADER };
