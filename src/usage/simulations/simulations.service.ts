import { Injectable } from '@nestjs/common';

import type { ResolvedAccount } from '../../auth/account-access.js';
import type { BodyNamed } from '../../auth/auth.decorator.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { toDate } from '../../common/validation/dates.js';
import { HeavyReads } from '../../database/heavy-reads.js';
import type { SimulationDto, SimulationResponseDto } from '../../pricing/dto/simulations.dto.js';
import { ruleColumns } from '../../pricing/pricing-rules.js';
import type { PriceSimulator } from '../../pricing/simulations/price-simulator.js';
import { UsageStatsRepository } from '../stats/usage-stats.repository.js';
import { simulationDays, type SimulationGroup, type SimulationInput, simulationSql } from './simulations.js';

/** The longest range a simulation reads, in days. */
export const MAX_SIMULATION_DAYS = 400;

/**
 * A simulation's (or a re-rate's) range and rules checked: `to` after `from`, at most 400 days apart
 * (RANGE_TOO_LONG), each model once, each rule's prices as a price rule takes them.
 */
export function simulationInput(
  dto: Pick<SimulationDto, 'from' | 'to' | 'rules' | 'userId' | 'orgId'>,
): Omit<SimulationInput, 'groupBy' | 'accountId'> & { owner?: Pick<ResolvedAccount, 'kind' | 'ownerId'> } {
  if (dto.userId !== undefined && dto.orgId !== undefined) {
    throw new DomainError('VALIDATION', 'Give userId or orgId, not both');
  }
  const from = toDate(dto.from);
  const to = toDate(dto.to);
  if (to.getTime() <= from.getTime()) throw new DomainError('VALIDATION', 'to must be after from');
  if (to.getTime() - from.getTime() > MAX_SIMULATION_DAYS * 86_400_000) {
    throw new DomainError('RANGE_TOO_LONG', `from and to may be at most ${MAX_SIMULATION_DAYS} days apart`);
  }
  const seen = new Set<string>();
  const rules = dto.rules.map((fields, index) => {
    const where = `rules[${index}] (${fields.modelId})`;
    if (seen.has(fields.modelId)) throw new DomainError('VALIDATION', `${where}: the model is given twice`);
    seen.add(fields.modelId);
    return { modelId: fields.modelId, ...ruleColumns(fields, where) };
  });
  const owner =
    dto.orgId !== undefined
      ? { kind: 'org' as const, ownerId: dto.orgId }
      : dto.userId !== undefined
        ? { kind: 'user' as const, ownerId: dto.userId }
        : undefined;
  return owner === undefined ? { from, to, rules } : { from, to, rules, owner };
}

/**
 * The id of the account the body names (`owner`), as the access guard resolved it (the route's role
 * let the caller see every account): null when the owner has none (its records: none); absent when
 * the body names none (every account's).
 */
export function namedAccountId(
  named: BodyNamed,
  owner: Pick<ResolvedAccount, 'kind' | 'ownerId'> | undefined,
): { accountId?: string | null } {
  if (owner === undefined) return {};
  return { accountId: named.take()?.accountId ?? null };
}

/**
 * POST /api/pricing/simulations: what a range of records would have cost under other rules. It lives
 * with the records it reads (usage), pricing them with pricing's one SQL rule (creditsSql()), as a
 * heavy read (src/database/heavy-reads.ts): gated, timed, on connections of their own.
 */
@Injectable()
export class SimulationsService implements PriceSimulator {
  constructor(
    private readonly repository: UsageStatsRepository,
    private readonly heavy: HeavyReads,
  ) {}

  async simulate(dto: SimulationDto, named: BodyNamed): Promise<SimulationResponseDto> {
    const { owner, ...input } = simulationInput(dto);
    return this.run({ ...input, ...namedAccountId(named, owner), groupBy: dto.groupBy });
  }

  /** The statement run and summed (`record` grouping: one row per record, for tests). */
  async run(input: Parameters<typeof simulationSql>[0] & { groupBy: SimulationGroup }): Promise<SimulationResponseDto> {
    const statements = simulationDays(input.from, input.to).map(([from, to]) => simulationSql({ ...input, from, to }));
    const found = await this.heavy.run((db) => this.repository.simulate(db, statements));
    // A key's rows of every day summed (exactly: as numeric text), in the keys' byte order.
    const byKey = new Map<string, { records: bigint; actual: bigint; simulated: bigint }>();
    for (const r of found) {
      const sums = byKey.get(r.key) ?? { records: 0n, actual: 0n, simulated: 0n };
      sums.records += BigInt(r.records);
      sums.actual += BigInt(r.actual_credits);
      sums.simulated += BigInt(r.simulated_credits);
      byKey.set(r.key, sums);
    }
    const rows = [...byKey.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, sums]) => ({
        key,
        records: Number(sums.records),
        actualCredits: Number(sums.actual),
        simulatedCredits: Number(sums.simulated),
      }));
    const sum = (pick: (row: (typeof rows)[number]) => number) => rows.reduce((n, row) => n + pick(row), 0);
    const actualCredits = sum((r) => r.actualCredits);
    const simulatedCredits = sum((r) => r.simulatedCredits);
    return {
      records: sum((r) => r.records),
      actualCredits,
      simulatedCredits,
      difference: simulatedCredits - actualCredits,
      rows,
    };
  }
}
