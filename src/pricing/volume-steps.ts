import { isObject } from '../common/is-object.js';
/**
 * Volume steps of a price rule (docs/pricing.md "Volume steps"): the one home of their shape and
 * checks. The take prices a record with them (credit_volume_price(), credit_volume_cost()) against the
 * account's period total for the model; `volumeStepAt` is their TypeScript twin for what is priced
 * ahead of a record (a hold, a quote).
 */
export const VOLUME_MODES = ['graduated', 'volume'] as const;
export const VOLUME_PERIODS = ['month', 'plan'] as const;
export const MAX_VOLUME_STEPS = 10;

export interface VolumeStep {
  /** The last position (inclusive) of the period's total the step prices; null: the last step. */
  upTo: number | null;
  /** Every price of the rule × pricePercent / 100, a 2-place string. */
  pricePercent: string;
}

export interface VolumeSteps {
  mode: (typeof VOLUME_MODES)[number];
  period: (typeof VOLUME_PERIODS)[number];
  steps: VolumeStep[];
}

const PERCENT_PATTERN = /^\d{1,4}(\.\d{1,2})?$/;

/** A rule's `volume` normalised (percents as 2-place strings), or what is wrong with it. */
export function checkVolume(value: unknown): { volume: VolumeSteps } | { problem: string } {
  const shape =
    'volume must be {mode: "graduated" or "volume", period: "month" or "plan", steps: [{upTo, pricePercent}]}';
  if (!isObject(value) || Object.keys(value).some((key) => !['mode', 'period', 'steps'].includes(key)))
    return { problem: shape };
  const { mode, period, steps } = value;
  if (!VOLUME_MODES.includes(mode as VolumeSteps['mode']))
    return { problem: 'volume.mode must be "graduated" or "volume"' };
  if (!VOLUME_PERIODS.includes(period as VolumeSteps['period']))
    return { problem: 'volume.period must be "month" or "plan"' };
  if (!Array.isArray(steps) || steps.length < 1 || steps.length > MAX_VOLUME_STEPS)
    return { problem: `volume.steps must hold 1 to ${MAX_VOLUME_STEPS} steps` };
  const normalised: VolumeStep[] = [];
  let previous = 0;
  for (const [index, step] of steps.entries()) {
    const where = `volume.steps[${index}]`;
    if (!isObject(step) || Object.keys(step).some((key) => key !== 'upTo' && key !== 'pricePercent'))
      return { problem: `${where} must be {upTo, pricePercent}` };
    const last = index === steps.length - 1;
    const upTo = step.upTo ?? null;
    if (last && upTo !== null) return { problem: `${where}.upTo must be null: the last step has no end` };
    if (!last && (typeof upTo !== 'number' || !Number.isSafeInteger(upTo) || upTo <= previous))
      return { problem: `${where}.upTo must be an integer above the step before's (ascending, from 1)` };
    const text =
      typeof step.pricePercent === 'string'
        ? step.pricePercent.trim()
        : typeof step.pricePercent === 'number' && Number.isFinite(step.pricePercent)
          ? String(step.pricePercent)
          : null;
    if (text === null || !PERCENT_PATTERN.test(text))
      return { problem: `${where}.pricePercent must be 0–1000 with at most 2 places` };
    const [whole, fraction = ''] = text.split('.');
    const hundredths = Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
    if (hundredths > 100_000) return { problem: `${where}.pricePercent must be at most 1000` };
    const percent = `${Number(whole)}.${fraction.padEnd(2, '0')}`;
    normalised.push({ upTo: last ? null : (upTo as number), pricePercent: percent });
    if (!last) previous = upTo as number;
  }
  return { volume: { mode: mode as VolumeSteps['mode'], period: period as VolumeSteps['period'], steps: normalised } };
}

/** The step (from 0) that prices position `position` (1-based) of the period's total. */
export function volumeStepAt(volume: VolumeSteps, position: number): number {
  const index = volume.steps.findIndex((step) => step.upTo === null || Math.max(position, 1) <= step.upTo);
  return index < 0 ? volume.steps.length - 1 : index;
}

/**
 * What the engine reads to price a write on a rule with volume steps (credit_volume_price()): the
 * model, the steps, the write's tokens and exact un-rounded credits, when it occurred (null: now) and
 * how long a give-back lasts after the period.
 */
export interface VolumeCharge {
  model: string;
  mode: string;
  period: string;
  steps: [number | null, string][];
  tokens: number;
  base: string;
  at: string | null;
  expiryDays: number;
}

/** A write's VolumeCharge from its quote's steps and exact credits. */
export function volumeCharge(
  model: string,
  priced: { steps: VolumeSteps; exact: string },
  tokens: number,
  at: string | null,
  expiryDays: number,
): VolumeCharge {
  const { mode, period, steps } = priced.steps;
  return {
    model,
    mode,
    period,
    steps: steps.map((step) => [step.upTo, step.pricePercent]),
    tokens,
    base: priced.exact,
    at,
    expiryDays,
  };
}
