import { DomainError } from '../common/errors/domain-error.js';

/** Pricing a model that has no rule while PRICING_STRICT is on (422). */
export function unknownModel(modelId: string): DomainError {
  return new DomainError('PRICING_UNKNOWN_MODEL', `No price for model ${modelId}`, { modelId });
}

/** How far before now a new rule's effectiveFrom may lie (clock skew; "now" as the caller wrote it). */
export const PAST_EFFECTIVE_FROM_LEEWAY_MS = 60_000;

/** Whether the party's every model list in force allows a model (MODEL_NOT_ENTITLED otherwise). */
export function notEntitled(modelId: string | null): DomainError {
  const message =
    modelId === null
      ? 'A model list in force allows only the models it names: name the model with modelId'
      : `The account may not use model ${modelId}`;
  return new DomainError('MODEL_NOT_ENTITLED', message, { modelId });
}
