/** readFacts checks an answer by hand; it must decide exactly as the zod schema it replaced. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readFacts } from '../../../server/ingest/providers/magichour.ts';

const FactsSchema = z.looseObject({
  id: z.string().min(1).max(200).optional(),
  credits_charged: z.number().finite().min(0).optional(),
  status: z.string().max(50).optional(),
});

function viaZod(body: unknown) {
  const parsed = FactsSchema.safeParse(body);
  if (!parsed.success) return null;
  const { id, credits_charged, status } = parsed.data;
  if (id === undefined && credits_charged === undefined) return null;
  return { credits: credits_charged ?? null, projectId: id ?? null, status: status ?? null };
}

const bodies: unknown[] = [
  { id: 'cl1', credits_charged: 5, frame_cost: 5 },
  { id: 'cl1' },
  { credits_charged: 0 },
  { id: 'cl1', credits_charged: 12.5, status: 'complete' },
  { status: 'queued' },
  {},
  { id: '' },
  { id: 'x'.repeat(200), credits_charged: 1 },
  { id: 'x'.repeat(201), credits_charged: 1 },
  { id: 7 },
  { id: null, credits_charged: 1 },
  { id: 'cl1', credits_charged: -1 },
  { id: 'cl1', credits_charged: Number.POSITIVE_INFINITY },
  { id: 'cl1', credits_charged: Number.NaN },
  { id: 'cl1', credits_charged: '5' },
  { id: 'cl1', status: 's'.repeat(50) },
  { id: 'cl1', status: 's'.repeat(51) },
  { id: 'cl1', status: null },
  { id: 'cl1', credits_charged: undefined },
  null,
  [],
  [{ id: 'cl1' }],
  'cl1',
  5,
  true,
];

describe('readFacts', () => {
  it('decides every answer as the zod schema does', () => {
    for (const body of bodies) expect(readFacts('create', body), JSON.stringify(body)).toEqual(viaZod(body));
  });

  it('reads the credits, project id and status of a create answer', () => {
    expect(readFacts('create', { id: 'cl1', credits_charged: 5, status: 'queued' })).toEqual({
      credits: 5,
      projectId: 'cl1',
      status: 'queued',
    });
  });
});
