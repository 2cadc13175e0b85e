import { Injectable } from '@nestjs/common';

import { DomainError } from '../common/errors/domain-error.js';
import { toDate } from '../common/validation/dates.js';
import { HeavyReads } from '../database/heavy-reads.js';
import { ruleColumns } from '../pricing/pricing-rules.js';
import type { SimulationDto, SimulationResponseDto } from './dto/simulations.dto.js';
import { type SimulationGroup, type SimulationInput, simulationSql } from './simulations.js';
import { UsageStatsRepository } from './usage-stats.repository.js';

/** The longest range a simulation reads, in days. */
export const MAX_SIMULATION_DAYS = 400;

/**
 * A simulation's (or a re-rate's) range and rules checked: `to` after `from`, at most 400 days apart
 * (RANGE_TOO_LONG), each model once, each rule's prices as a price rule takes them.
 */
export function simulationInput(
  dto: Pick<SimulationDto, 'from' | 'to' | 'rules' | 'userId' | 'orgId'>,
): Omit<SimulationInput, 'groupBy'> {
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
  return { from, to, rules, userId: dto.userId, orgId: dto.orgId };
}

/**
 * POST /api/pricing/simulations: what a range of records would have cost under other rules. It lives
 * with the records it reads (usage), pricing them with pricing's one SQL rule (creditsSql()), as a
 * heavy read (src/database/heavy-reads.ts): gated, timed, on connections of their own.
 */
@Injectable()
export class SimulationsService {
  constructor(
    private readonly repository: UsageStatsRepository,
    private readonly heavy: HeavyReads,
  ) {}

  async simulate(dto: SimulationDto): Promise<SimulationResponseDto> {
    return this.run({ ...simulationInput(dto), groupBy: dto.groupBy });
  }

  /** The statement run and summed (`record` grouping: one row per record, for tests). */
  async run(input: Parameters<typeof simulationSql>[0] & { groupBy: SimulationGroup }): Promise<SimulationResponseDto> {
    const statement = simulationSql(input);
    const found = await this.heavy.run((db) => this.repository.simulate(db, statement));
    const rows = found.map((r) => ({
      key: r.key,
      records: Number(r.records),
      actualCredits: Number(r.actual_credits),
      simulatedCredits: Number(r.simulated_credits),
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
