import { accountLabelSql } from '../../accounts/account-ref.js';
import type { SqlPart } from '../../database/statement-parts.js';
import { volumePeriodSql, volumeWalkSql } from '../../engine/credit-sql.js';
import type { SIMULATION_GROUPS } from '../../pricing/dto/simulations.dto.js';
import { creditsSql, exactCreditsSql, type SqlKinds } from '../../pricing/pricing.sql.js';
import type { RulePriceColumns } from '../../pricing/pricing-rules.js';
import { perKind, tokenColumn } from '../../pricing/token-kinds.js';
import { recordNetFigure } from '../record-net.js';

export type SimulationGroup = (typeof SIMULATION_GROUPS)[number] | 'record';

/** A simulation's question: the records of [from, to), of one account or all, re-priced with `rules`. */
export interface SimulationInput {
  from: Date;
  to: Date;
  rules: (RulePriceColumns & { modelId: string })[];
  /**
   * The id of the account whose records (the account that paid them, `account_id`), as the resolver
   * read it for the body's `userId` or `orgId`; null: the owner named has no account, so no records;
   * absent: every account's.
   */
  accountId?: string | null;
  groupBy: SimulationGroup;
}

export interface SimulationRow {
  key: string;
  records: string;
  actual_credits: string;
  simulated_credits: string;
}

/**
 * A record's counts of each kind as pricing saw them: a single count (no split) is all input, as
 * token-counts.ts prices it.
 */
const RECORD_KINDS: SqlKinds = perKind((kind) =>
  kind === 'input' ? `COALESCE(u.input_tokens, u.tokens, 0)` : `COALESCE(u.${tokenColumn(kind)}, 0)`,
);

/** The simulated rules' columns, as jsonb_to_recordset reads them. */
const SIM_COLUMNS = `model_id varchar, price_per_1k_tokens numeric, output_price_per_1k_tokens numeric,
  cache_read_price_per_1k_tokens numeric, cache_write_price_per_1k_tokens numeric, reasoning_price_per_1k_tokens numeric,
  long_context_threshold int, long_context_price_per_1k_tokens numeric, long_context_output_price_per_1k_tokens numeric,
  service_tiers jsonb, unit_prices jsonb, volume jsonb`;

/** The simulated rules as a relation (alias it), from the `rulesParam` JSON. */
const simRulesSql = (rulesParam: string) =>
  `(SELECT * FROM jsonb_to_recordset(${rulesParam}::jsonb) AS x(${SIM_COLUMNS}))`;

/** A record's counts, tier and units as the simulated prices read them. */
const RECORD_DIMENSIONS = { tier: 'u.service_tier', units: 'u.units' };

const KEYS: Record<SimulationGroup, string> = {
  model: `COALESCE(u.model_id, u.operation)`,
  account: accountLabelSql('u.org_id', 'u.user_id'),
  day: `to_char(u.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  record: `u.id::text`,
};

/**
 * The simulated rules as the `sim` relation reads them (jsonb_to_recordset over `rulesParam`); a rule's
 * volume steps as the engine takes them (`{mode, period, steps: [[upTo, pricePercent], …]}`), and only
 * on a rule that has them, so a re-rate stored without steps reads the same.
 */
export function simulationRulesJson(rules: SimulationInput['rules']): string {
  return JSON.stringify(
    rules.map((r) => ({
      model_id: r.modelId,
      price_per_1k_tokens: r.pricePer1kTokens,
      output_price_per_1k_tokens: r.outputPricePer1kTokens,
      cache_read_price_per_1k_tokens: r.cacheReadPricePer1kTokens,
      cache_write_price_per_1k_tokens: r.cacheWritePricePer1kTokens,
      reasoning_price_per_1k_tokens: r.reasoningPricePer1kTokens,
      long_context_threshold: r.longContextThreshold,
      long_context_price_per_1k_tokens: r.longContextPricePer1kTokens,
      long_context_output_price_per_1k_tokens: r.longContextOutputPricePer1kTokens,
      service_tiers: r.serviceTiers ?? null,
      unit_prices: r.unitPrices ?? null,
      ...(r.volume
        ? {
            volume: {
              mode: r.volume.mode,
              period: r.volume.period,
              steps: r.volume.steps.map((step) => [step.upTo, step.pricePercent]),
            },
          }
        : {}),
    })),
  );
}

/** Whether any of the simulated rules (as simulationRulesJson() wrote them) has volume steps. */
export function rulesHaveVolume(rules: unknown[]): boolean {
  return rules.some((rule) => (rule as { volume?: unknown }).volume != null);
}

/**
 * The one price of a record under simulated rules, shared by simulations and re-rates (so a re-rate
 * corrects exactly what the simulation of the same body shows): over `usage_records u`, `from` joins
 * the simulated rules (`sim`, the `rulesParam` JSON) and the record's account price; `actual` is what
 * the record costs now, `repriced` is true when the rules price it again (the service priced it, from a
 * rule or an account price, and its model has a simulated rule), and `simulated` is its credits under
 * the rules (its actual credits when not repriced). `back`: what `volume` steps gave back on the
 * record (its give-backs, ledger `volume_adjustment` lines naming it), which its actual credits are
 * net of: a period's records then sum to what the period cost.
 *
 * Each repriced record is priced by creditsSql() — the arithmetic a settlement prices with, which
 * test/pricing-simulation.int-spec.ts holds equal to the live TypeScript price record by record —
 * with its account price applied over the simulated rule, from its counts whatever it was charged.
 * A record's actual credits are its price: the credits taken plus a settlement's shortfall that no
 * review collected (open, or written off; a collect adds the shortfall to its credits), so the rules
 * in force answer a difference of 0 on a record under review too; its corrections move it as they
 * move its net (docs/usage.md "Corrections"), so after a re-rate its simulation answers a difference of 0. Every other record (credits named,
 * default-priced, a model without a simulated rule) counts with its actual credits.
 *
 * `volume`: some simulated rule has volume steps; the statement then holds volumePricedSql()'s
 * relation `volume_priced`, and a repriced record on such a rule costs what it says.
 */
export function recordPricingSql(
  rulesParam: string,
  volume = false,
): {
  from: string;
  actual: string;
  back: string;
  repriced: string;
  simulated: string;
} {
  // Its tier and units at the simulated rule's prices (a tier it lacks: the base prices; a unit it does not price: 0).
  const credits = creditsSql('s', RECORD_KINDS, 'NULL::numeric', 'ap', RECORD_DIMENSIONS);
  // Corrections move a record's price by what they moved (delta − shortfall_delta); its shortfall is
  // its review's amount (the settlement's and the corrections' parts: shortfall + Σ review_delta), as
  // the corrections service reads a record's net: counted while the review is open, and written off
  // until a correction names the record's cost again. A collect added what it took to the record's
  // credits: a collected review counts no more (its corrections' part was counted twice otherwise).
  const corrections = `FROM usage_corrections c WHERE c.record_id = u.id`;
  const corrected = recordNetFigure('u', 'corrected');
  const review = recordNetFigure('u', 'review');
  const counted = `(u.review_status = 'open' OR (u.review_status = 'resolved' AND u.resolution = 'write_off'
                    AND NOT EXISTS (SELECT 1 ${corrections} AND c.created_at > u.resolved_at)))`;
  // Only a record priced at volume steps (volume_step set) can have been given back anything.
  const back = `(CASE WHEN u.volume_step IS NULL THEN 0 ELSE (SELECT COALESCE(sum(l.amount), 0) FROM credit_ledger l
                  WHERE l.usage_record_id = u.id AND l.kind = 'volume_adjustment') END)`;
  const actual = `(u.credits + ${corrected} + CASE WHEN ${counted} THEN ${review} ELSE 0 END - ${back})`;
  const repriced = `(s.model_id IS NOT NULL AND (u.pricing_rule_id IS NOT NULL OR u.account_price_id IS NOT NULL))`;
  const price = volume ? `CASE WHEN s.volume IS NULL THEN ${credits} ELSE vp.credits END` : credits;
  return {
    from: `usage_records u
            LEFT JOIN ${simRulesSql(rulesParam)} s ON s.model_id = u.model_id
            LEFT JOIN account_prices ap ON ap.id = u.account_price_id${
              volume
                ? `
            LEFT JOIN volume_priced vp ON vp.id = u.id`
                : ''
            }`,
    actual,
    back,
    repriced,
    simulated: `CASE WHEN ${repriced} THEN ${price} ELSE ${actual} END`,
  };
}

/**
 * The records of `scope` (a relation of usage_records rows) that a simulated rule with volume steps
 * prices, priced at the steps (docs/pricing.md "Simulations"), as two CTEs for a WITH:
 * `volume_periods`, the volume periods (credit_volume_period()) of the scope's records, each
 * account's and model's; `volume_priced (id, credits)`, the records the rules reprice in those periods
 * from the period's start, walked in (occurred_at, id) order by credit_volume_walk() from an empty
 * total, so the period's earlier records, priced by the same rules, come first. `graduated`: up to
 * `upTo` (a condition on `u`: the last record the statement prices), each record at the steps of its
 * positions; `volume`: the whole period, each record at the step its whole total reaches. Only the
 * records the rules reprice count in a total (as only records priced at steps count in the take's).
 */
export function volumePricedSql(rulesParam: string, scope: string, upTo: string): string {
  const base = exactCreditsSql('s', RECORD_KINDS, 'NULL::numeric', 'ap', RECORD_DIMENSIONS);
  const order = 'ORDER BY r.occurred_at, r.id';
  // A month's records share its start: the period is looked up once an account, model and month.
  return `volume_periods AS MATERIALIZED (
      SELECT DISTINCT x.account_id, x.model_id, p.out_start, p.out_end, x.mode
        FROM (SELECT DISTINCT x.account_id, x.model_id, s.volume ->> 'mode' AS mode, s.volume ->> 'period' AS period,
                     CASE WHEN s.volume ->> 'period' = 'month' THEN date_trunc('month', x.occurred_at, 'UTC')
                          ELSE x.occurred_at END AS at
                FROM (${scope}) x
                JOIN ${simRulesSql(rulesParam)} s ON s.model_id = x.model_id AND s.volume IS NOT NULL
               WHERE x.pricing_rule_id IS NOT NULL OR x.account_price_id IS NOT NULL) x
        CROSS JOIN LATERAL ${volumePeriodSql('x.account_id', 'x.period', 'x.at')} p),
    volume_records AS MATERIALIZED (
      -- each record's exact credits before the steps, priced before the periods' sort: it sorts narrow rows
      SELECT k.account_id, k.model_id, k.out_start, k.mode, s.volume -> 'steps' AS steps, u.id, u.occurred_at,
             COALESCE(u.tokens, 0)::bigint AS tokens, ${base} AS base
        FROM volume_periods k
        JOIN usage_records u ON u.account_id = k.account_id AND u.model_id = k.model_id
                            AND u.occurred_at >= k.out_start AND u.occurred_at < k.out_end
        JOIN ${simRulesSql(rulesParam)} s ON s.model_id = u.model_id
        LEFT JOIN account_prices ap ON ap.id = u.account_price_id
       -- the periods' bounds as one range of the (occurred_at, id) index, the join keeps each period's own
       WHERE u.occurred_at >= (SELECT min(out_start) FROM volume_periods)
         AND u.occurred_at < (SELECT max(out_end) FROM volume_periods)
         AND (k.mode = 'volume' OR ${upTo})
         AND (u.pricing_rule_id IS NOT NULL OR u.account_price_id IS NOT NULL)),
    volume_priced AS MATERIALIZED (
      SELECT g.ids[w.out_ord] AS id, w.out_credits AS credits
        FROM (SELECT min(r.mode) AS mode, min(r.steps::text)::jsonb AS steps, array_agg(r.id ${order}) AS ids,
                     array_agg(r.tokens ${order}) AS tokens, array_agg(r.base ${order}) AS bases
                FROM volume_records r
               GROUP BY r.account_id, r.model_id, r.out_start) g
        CROSS JOIN LATERAL ${volumeWalkSql('g.mode', 'g.steps', 'g.tokens', 'g.bases')} w)`;
}

/**
 * ONE aggregate statement over the range (the database streams the records through it; none reaches
 * Node), each record priced by recordPricingSql(). It writes nothing.
 */
export function simulationSql(input: SimulationInput): SqlPart {
  const params: unknown[] = [input.from, input.to, simulationRulesJson(input.rules)];
  let account = '';
  if (input.accountId !== undefined) {
    params.push(input.accountId);
    account = `AND u.account_id = $4::bigint`;
  }
  const range = `u.occurred_at >= $1::timestamptz AND u.occurred_at < $2::timestamptz ${account}`;
  const volume = input.rules.some((rule) => rule.volume);
  const priced = recordPricingSql('$3', volume);
  const steps = volume
    ? `WITH ${volumePricedSql('$3', `SELECT u.* FROM usage_records u WHERE ${range}`, 'u.occurred_at < $2::timestamptz')}\n`
    : '';
  return {
    sql: `${steps}SELECT ${KEYS[input.groupBy]} AS key, count(*)::text AS records,
                 COALESCE(sum(${priced.actual}), 0)::text AS actual_credits,
                 COALESCE(sum(${priced.simulated}), 0)::text AS simulated_credits
            FROM ${priced.from}
           WHERE ${range}
           GROUP BY 1
           ORDER BY 1`,
    params,
  };
}

/**
 * The range cut into days from its start (the last one shorter), each read by a statement of its own
 * in a snapshot of its own: none holds back the database's clean-up of metering's updates for longer
 * than a day's records take to read.
 */
export function simulationDays(from: Date, to: Date): [Date, Date][] {
  const days: [Date, Date][] = [];
  for (let start = from.getTime(); start < to.getTime(); start += DAY_MS) {
    days.push([new Date(start), new Date(Math.min(start + DAY_MS, to.getTime()))]);
  }
  return days;
}

const DAY_MS = 86_400_000;
