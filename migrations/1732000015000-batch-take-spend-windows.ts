import type { MigrationInterface, QueryRunner } from 'typeorm';

import { rewriteTakeEvents } from './rewrite-take-events.js';

/**
 * credits_take_events() decided hourly spend limits on a copy of every limited user's 60-slot window
 * (an array of 60 × users, built by a sorted aggregate and summed in PL/pgSQL loops) and wrote each
 * window back from it: for a batch over users with limits that was about half the function's time.
 * Now SQL reads what each user spent in the last hour, the loop keeps only what the batch adds this
 * minute, a refusal's Retry-After is read from the stored window when it happens (rare), and the
 * windows are written in the one upsert. The same arithmetic as credits_take(): slots of minutes after
 * the newest bucket hold spend from an hour or more ago; test/credits-batch-take.int-spec.ts holds the
 * two to the same outcomes, Retry-After and stored windows over windows up to 500 minutes old.
 */
const REWRITES: [from: string, to: string][] = [
  [
    `    u_limit integer[]; u_minute bigint[]; u_used bigint[]; u_rated boolean[]; w integer[];`,
    `    u_limit integer[]; u_minute bigint[]; u_used bigint[]; u_rated boolean[]; u_added bigint[]; w integer[];`,
  ],
  [
    `    IF EXISTS (SELECT 1 FROM unnest(u_limit) x WHERE x IS NOT NULL) THEN
      SELECT array_agg(COALESCE(c.spend_window[s.slot], 0) ORDER BY u.ord, s.slot) INTO w
        FROM unnest(u_id) WITH ORDINALITY AS u(user_id, ord)
        LEFT JOIN credit_accounts c ON c.user_id = u.user_id
       CROSS JOIN generate_series(1, 60) AS s(slot);
      FOR u IN 1 .. cardinality(u_id) LOOP
        CONTINUE WHEN u_limit[u] IS NULL;
        -- As credits_take(): slots of minutes after the newest bucket hold spend from an hour or more ago.
        FOR m IN u_minute[u] + 1 .. LEAST(v_minute, u_minute[u] + 60) LOOP
          w[(u - 1) * 60 + (m % 60) + 1] := 0;
        END LOOP;
        FOR j IN 1 .. 60 LOOP u_used[u] := u_used[u] + w[(u - 1) * 60 + j]; END LOOP;
      END LOOP;
    END IF;`,
    `    u_added := array_fill(0::bigint, ARRAY[cardinality(u_id)]);
    IF EXISTS (SELECT 1 FROM unnest(u_limit) x WHERE x IS NOT NULL) THEN
      -- What each limited user spent in the last hour, read as credits_take() reads the window: the
      -- slots of the minutes after the newest bucket hold spend from an hour or more ago and count nothing.
      SELECT array_agg(COALESCE((SELECT sum(c.spend_window[((g.m % 60) + 1)::int])
                                   FROM generate_series(GREATEST(v_minute, c.spend_minute) - 59, c.spend_minute) AS g(m)),
                                0)::bigint ORDER BY u.ord)
        INTO u_used
        FROM unnest(u_id, u_limit) WITH ORDINALITY AS u(user_id, lim, ord)
        LEFT JOIN credit_accounts c ON c.user_id = u.user_id AND u.lim IS NOT NULL;
    END IF;`,
  ],
  [
    `        e_status[i] := 'rate_limited'; e_retry[i] := 3600; v_freed := 0;
        FOR m IN v_minute - 59 .. v_minute LOOP
          v_freed := v_freed + w[(u - 1) * 60 + (m % 60) + 1];
          IF u_used[u] - v_freed + v_amount <= u_limit[u] THEN
            e_retry[i] := GREATEST(1, ceil((m + 60) * 60 - extract(epoch FROM now())))::integer;
            EXIT;
          END IF;
        END LOOP;`,
    `        e_status[i] := 'rate_limited';
        -- Retry when enough of the oldest minutes have left the window (never: in an hour): the stored
        -- buckets still in the hour, and what this batch has spent this minute.
        SELECT min(x.m) INTO m
          FROM (SELECT g.m,
                       sum(CASE WHEN g.m > c.spend_minute THEN 0 ELSE COALESCE(c.spend_window[((g.m % 60) + 1)::int], 0) END
                           + CASE WHEN g.m = v_minute THEN u_added[u] ELSE 0 END) OVER (ORDER BY g.m) AS freed
                  FROM generate_series(v_minute - 59, v_minute) AS g(m)
                  LEFT JOIN credit_accounts c ON c.user_id = e_user[i]) x
         WHERE u_used[u] - x.freed + v_amount <= u_limit[u];
        e_retry[i] := CASE WHEN m IS NULL THEN 3600
                           ELSE GREATEST(1, ceil((m + 60) * 60 - extract(epoch FROM now())))::integer END;`,
  ],
  [
    `        w[(u - 1) * 60 + (v_minute % 60) + 1] := w[(u - 1) * 60 + (v_minute % 60) + 1] + v_amount;`,
    `        u_added[u] := u_added[u] + v_amount;`,
  ],
  [
    `    INSERT INTO credit_accounts AS c (user_id, debt, spend_minute, spend_window)
    SELECT d.user_id, d.debt, v_minute, w[(d.u - 1) * 60 + 1 : d.u * 60]
      FROM unnest(u_id, u_debt, u_rated) WITH ORDINALITY AS d(user_id, debt, rated, u) WHERE d.rated
    ON CONFLICT (user_id) DO UPDATE
      SET debt = c.debt + EXCLUDED.debt, spend_minute = EXCLUDED.spend_minute, spend_window = EXCLUDED.spend_window,
          updated_at = now();`,
    `    INSERT INTO credit_accounts AS c (user_id, debt, spend_minute, spend_window)
    SELECT d.user_id, d.debt, v_minute,
           (SELECT array_agg((CASE WHEN s.slot = (v_minute % 60) + 1 THEN d.added ELSE 0 END)::int ORDER BY s.slot)
              FROM generate_series(1, 60) AS s(slot))
      FROM unnest(u_id, u_debt, u_rated, u_added) AS d(user_id, debt, rated, added) WHERE d.rated
    ON CONFLICT (user_id) DO UPDATE
      SET debt = c.debt + EXCLUDED.debt, spend_minute = EXCLUDED.spend_minute,
          -- the stored buckets still in the hour (slot s holds minute v - ((v - s + 1) mod 60)), plus
          -- what this batch spent this minute
          spend_window = (SELECT array_agg((CASE WHEN v_minute - ((v_minute - (s.slot - 1)) % 60) > c.spend_minute
                                                 THEN 0 ELSE c.spend_window[s.slot] END) + EXCLUDED.spend_window[s.slot]
                                           ORDER BY s.slot)
                            FROM generate_series(1, 60) AS s(slot)),
          updated_at = now();`,
  ],
];

export class BatchTakeSpendWindows1732000015000 implements MigrationInterface {
  name = 'BatchTakeSpendWindows1732000015000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(rewriteTakeEvents(REWRITES));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(rewriteTakeEvents(REWRITES.map(([from, to]) => [to, from])));
  }
}
