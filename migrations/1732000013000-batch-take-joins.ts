import type { MigrationInterface, QueryRunner } from 'typeorm';

import { rewriteTakeEvents } from './rewrite-take-events.js';

/**
 * credits_take_events() (migration 1732000012000) found a batch's accounts and allocations with
 * `user_id = ANY(u_id)`. A PL/pgSQL statement runs on a generic plan, which cannot use the array's
 * size, so both became sequential scans that compared every row with every user of the batch: for
 * 1,000 users and a 1,000-event batch, about 1.3 million text comparisons, a third of the function's
 * time. `IN (SELECT unnest(u_id))` lets the planner hash the users (or probe the index) instead:
 * the same rows, locked in the same order, at a fraction of the cost.
 *
 * The function is otherwise unchanged, so it is rewritten in place from its current definition.
 */
const REWRITES: [from: string, to: string][] = [
  [
    'WHERE a.user_id = ANY(u_id) ORDER BY a.user_id FOR NO KEY UPDATE)',
    'WHERE a.user_id IN (SELECT unnest(u_id)) ORDER BY a.user_id FOR NO KEY UPDATE OF a)',
  ],
  [
    'WHERE c.user_id = ANY(u_id) AND c.expires_at > now() AND c.remaining_credits > 0',
    'WHERE c.user_id IN (SELECT unnest(u_id)) AND c.expires_at > now() AND c.remaining_credits > 0',
  ],
  ['FOR UPDATE) c', 'FOR UPDATE OF c) c'],
];

export class BatchTakeJoins1732000013000 implements MigrationInterface {
  name = 'BatchTakeJoins1732000013000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(rewriteTakeEvents(REWRITES));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(rewriteTakeEvents(REWRITES.map(([from, to]) => [to, from])));
  }
}
