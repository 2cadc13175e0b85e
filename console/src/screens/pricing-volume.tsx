import { Group, NativeSelect, TextInput } from '@mantine/core';

import type { PricingRuleResponseDto } from '../api/generated';

/**
 * A rule's volume steps (docs/pricing.md "Volume steps") as the pricing screens show and edit them:
 * a mode, a period and the steps as `upTo=percent` pairs, the last `*=percent` (no end). The server
 * checks the table (400 naming the bad step); the console only splits it.
 */

type Volume = PricingRuleResponseDto['volume'] | undefined;
type VolumeBody = {
  mode: 'graduated' | 'volume';
  period: 'month' | 'plan';
  steps: { upTo: number | null; pricePercent: string }[];
};

export const NO_VOLUME = { volumeMode: '', volumePeriod: 'month', volumeSteps: '' };
export type VolumeForm = typeof NO_VOLUME;

/** `1000000=100 5000000=80 *=60`. */
export function volumeFormOf(volume: Volume): VolumeForm {
  if (!volume) return NO_VOLUME;
  return {
    volumeMode: volume.mode,
    volumePeriod: volume.period,
    volumeSteps: volume.steps.map((step) => `${step.upTo ?? '*'}=${step.pricePercent}`).join(' '),
  };
}

/** The form's steps as the body's `volume` (none without a mode). */
export function volumeOf(form: VolumeForm): { volume?: VolumeBody } | { problem: string } {
  if (form.volumeMode === '') return {};
  const pairs = form.volumeSteps.split(/[\s,]+/).filter((pair) => pair !== '');
  const steps: VolumeBody['steps'] = [];
  for (const pair of pairs) {
    const [upTo, percent, extra] = pair.split('=');
    if (percent === undefined || extra !== undefined || percent === '' || !/^(\*|\d+)$/.test(upTo))
      return { problem: `Volume steps: write upTo=percent pairs, the last *=percent ("${pair}")` };
    steps.push({ upTo: upTo === '*' ? null : Number(upTo), pricePercent: percent });
  }
  if (steps.length === 0) return { problem: 'Volume steps: at least one step, the last *=percent' };
  return {
    volume: { mode: form.volumeMode as VolumeBody['mode'], period: form.volumePeriod as VolumeBody['period'], steps },
  };
}

/** `Graduated, month: ≤1,000 100.00 % · ≤3,000 50.00 % · beyond 25.00 %`; null without steps. */
export function volumeText(volume: Volume): string | null {
  if (!volume) return null;
  const steps = volume.steps.map((step) =>
    step.upTo === null
      ? `beyond ${step.pricePercent} %`
      : `≤${step.upTo.toLocaleString('en-US')} ${step.pricePercent} %`,
  );
  return `${volume.mode === 'graduated' ? 'Graduated' : 'Volume'}, ${volume.period}: ${steps.join(' · ')}`;
}

const problemOf = (result: object): string | null => ('problem' in result ? (result.problem as string) : null);

/** The volume fields of the rule form. */
export function VolumeFields({ value, onChange }: { value: VolumeForm; onChange: (value: VolumeForm) => void }) {
  return (
    <>
      <Group grow align="start">
        <NativeSelect
          label="Volume pricing"
          data={[
            { value: '', label: 'None' },
            { value: 'graduated', label: 'Graduated (each token at its step)' },
            { value: 'volume', label: 'Volume (the step reached prices all)' },
          ]}
          value={value.volumeMode}
          onChange={(e) => onChange({ ...value, volumeMode: e.currentTarget.value })}
        />
        <NativeSelect
          label="Volume period"
          data={[
            { value: 'month', label: 'UTC month' },
            { value: 'plan', label: 'Plan period' },
          ]}
          value={value.volumePeriod}
          disabled={value.volumeMode === ''}
          onChange={(e) => onChange({ ...value, volumePeriod: e.currentTarget.value })}
        />
      </Group>
      <TextInput
        label="Volume steps (percent of every price)"
        description="upTo=percent, tokens of the period inclusive, ascending, the last *=percent; e.g. 1000000=100 *=80"
        disabled={value.volumeMode === ''}
        error={value.volumeMode === '' ? null : problemOf(volumeOf(value))}
        value={value.volumeSteps}
        onChange={(e) => onChange({ ...value, volumeSteps: e.currentTarget.value })}
      />
    </>
  );
}
