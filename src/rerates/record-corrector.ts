import type { EntityManager } from 'typeorm';

/** One record to correct: what it should have cost, in credits. */
export interface RecordCorrection {
  recordId: string;
  credits: number;
}

/** What a correction moved: the record's net credits after minus before (0: nothing moved). */
export interface CorrectionResult {
  recordId: string;
  delta: number;
}

/**
 * The corrections engine as a re-rate uses it: each record set to its credits by one correction
 * (`correctionId`, `reason`), in the caller's transaction, so the re-rate's cursor commits with them. A
 * correctionId the record already has answers its first result and moves nothing, which makes a chunk
 * written again after a crash harmless as well.
 */
export interface RecordCorrector {
  correctMany(
    manager: EntityManager,
    correction: { correctionId: string; reason: string; createdBy: string },
    items: RecordCorrection[],
  ): Promise<CorrectionResult[]>;
}

export const RECORD_CORRECTOR = Symbol('RECORD_CORRECTOR');
