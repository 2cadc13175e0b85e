import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { UsageCorrectionsService } from '../usage/corrections/usage-corrections.service.js';
import type { CorrectionResult, RecordCorrection, RecordCorrector } from './record-corrector.js';

/**
 * The corrections engine a re-rate writes through (RecordCorrector): the usage module's corrections,
 * a chunk's records in ONE statement (UsageCorrectionsService.correctMany(): each record as a
 * correction of one record, their credits moved together by credits_correct()), on the chunk's
 * transaction (the manager), so the re-rate's cursor commits with them. Tests may give one of their
 * own (`use()`) to drive the runner's faults.
 */
@Injectable()
export class RecordCorrectors implements RecordCorrector {
  private current: RecordCorrector;

  constructor(@Inject(UsageCorrectionsService) corrections: UsageCorrectionsService) {
    this.current = {
      correctMany: (manager, correction, items) => corrections.correctMany(manager, correction, items),
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
