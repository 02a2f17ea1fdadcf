import type { FastifyInstance } from 'fastify';
import type { Pool } from '../db.ts';
import { findItem } from '../orders.ts';
import { traceOf } from '../request-trace.ts';

const params = {
  type: 'object',
  properties: { id: { type: 'integer', minimum: 1, maximum: 2147483647 } },
  required: ['id'],
} as const;

// A response schema lets Fastify serialise with fast-json-stringify instead of JSON.stringify.
const itemResponse = {
  200: {
    type: 'object',
    properties: { id: { type: 'integer' }, name: { type: 'string' }, priceCents: { type: 'integer' } },
    required: ['id', 'name', 'priceCents'],
  },
} as const;

export function itemRoutes(app: FastifyInstance, pool: Pool): void {
  app.get<{ Params: { id: number } }>('/api/items/:id', { schema: { params, response: itemResponse } }, async (request, reply) => {
    const item = await findItem(pool, request.params.id, traceOf(request.raw));
    if (!item) return reply.code(404).send({ error: 'not_found', message: `item ${request.params.id} does not exist` });
    return item;
  });
}
