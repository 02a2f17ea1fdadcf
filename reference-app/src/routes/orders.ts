import type { FastifyInstance } from 'fastify';
import type { Pool } from '../db.ts';
import { describeError, isConnectionError } from '../db.ts';
import { createOrder, findOrder } from '../orders.ts';
import { traceOf } from '../request-trace.ts';

const createBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    itemId: { type: 'integer', minimum: 1, maximum: 2147483647 },
    quantity: { type: 'integer', minimum: 1, maximum: 1000 },
  },
  required: ['itemId', 'quantity'],
} as const;

const createHeaders = {
  type: 'object',
  properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

const orderParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,18}$' } },
  required: ['id'],
} as const;

const QUERY_CANCELED = '57014'; // statement_timeout fired

export function orderRoutes(app: FastifyInstance, pool: Pool): void {
  app.post<{ Body: { itemId: number; quantity: number }; Headers: { 'idempotency-key'?: string } }>(
    '/api/orders',
    { schema: { body: createBody, headers: createHeaders } },
    async (request, reply) => {
      const idempotencyKey = request.headers['idempotency-key'];
      try {
        const result = await createOrder(pool, { ...request.body, ...(idempotencyKey ? { idempotencyKey } : {}) }, traceOf(request.raw));
        switch (result.kind) {
          case 'created':
            request.log.info({ orderId: result.order.id, itemId: result.order.itemId }, 'order created');
            return reply.code(201).send(result.order);
          case 'replayed':
            request.log.info({ orderId: result.order.id }, 'order replayed for a repeated Idempotency-Key');
            return reply.code(200).send(result.order);
          case 'key_conflict':
            return reply.code(409).send({ error: 'idempotency_key_reused', message: 'this Idempotency-Key was used for a different order', orderId: result.order.id });
          case 'unknown_item':
            return reply.code(422).send({ error: 'unknown_item', message: `item ${request.body.itemId} does not exist` });
        }
      } catch (err) {
        // Never retried here: after a lost connection the commit may or may not have happened. Say so,
        // and let the client retry with its Idempotency-Key, which makes the retry safe.
        if (isConnectionError(err) || (err as { code?: unknown }).code === QUERY_CANCELED) {
          request.log.warn({ err: describeError(err) }, 'order write not confirmed');
          return reply.code(503).header('retry-after', '1').send({
            error: 'write_not_confirmed',
            message: 'the database did not confirm the order; it was not retried. Retry with the same Idempotency-Key to be safe.',
          });
        }
        throw err;
      }
    },
  );

  app.get<{ Params: { id: string } }>('/api/orders/:id', { schema: { params: orderParams } }, async (request, reply) => {
    const order = await findOrder(pool, request.params.id, traceOf(request.raw));
    if (!order) return reply.code(404).send({ error: 'not_found', message: `order ${request.params.id} does not exist` });
    return order;
  });
}
