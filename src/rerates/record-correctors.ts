import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { AuthUser } from '../auth/roles.js';
import { UsageCorrectionsService } from '../usage/usage-corrections.service.js';
import type { CorrectionResult, RecordCorrection, RecordCorrector } from './record-corrector.js';

/**
 * The corrections engine a re-rate writes through (RecordCorrector): the usage module's corrections,
 * one per record, each joining the chunk's transaction (the manager's ambient transaction), so the
 * re-rate's cursor commits with them. Tests may give one of their own (`use()`) to drive the runner's
 * faults.
 */
@Injectable()
export class RecordCorrectors implements RecordCorrector {
  private current: RecordCorrector;

  constructor(@Inject(UsageCorrectionsService) corrections: UsageCorrectionsService) {
    this.current = {
      async correctMany(_manager, correction, items) {
        // The re-rate acts as its creator did: an admin (only admins start re-rates).
        const actor: AuthUser = {
          userId: correction.createdBy,
          role: 'admin',
          email: null,
          username: null,
          via: 'jwt',
        };
        const results: CorrectionResult[] = [];
        for (const item of items) {
          const { correction: made } = await corrections.correct(
            item.recordId,
            { correctionId: correction.correctionId, reason: correction.reason, credits: item.credits },
            actor,
          );
          results.push({ recordId: item.recordId, delta: made.delta });
        }
        return results;
      },
    };
  }

  use(corrector: RecordCorrector): void {
    this.current = corrector;
  }

  correctMany(
    manager: EntityManager,
    correction: { correctionId: string; reason: string; createdBy: string },
    items: RecordCorrection[],
  ): Promise<CorrectionResult[]> {
    return this.current.correctMany(manager, correction, items);
  }
}
