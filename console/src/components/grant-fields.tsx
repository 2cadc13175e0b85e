import { NumberInput, Select, Switch, Textarea } from '@mantine/core';

import { type FeatureType, GRANT_PERIODS, type GrantForm, type GrantPeriod } from '../lib/grants';

/** The fields of a grant for a feature of `type`: a switch, a limit and its period, or a JSON value. */
export function GrantFields({
  type,
  form,
  onChange,
}: {
  type: FeatureType;
  form: GrantForm;
  onChange: (form: GrantForm) => void;
}) {
  if (type === 'boolean') {
    return (
      <Switch
        label="Granted"
        checked={form.granted}
        onChange={(e) => onChange({ ...form, granted: e.currentTarget.checked })}
      />
    );
  }
  if (type === 'metered') {
    return (
      <>
        <NumberInput
          label="Limit (uses per period)"
          value={form.limit}
          onChange={(v) => onChange({ ...form, limit: v })}
          min={0}
          allowDecimal={false}
          allowNegative={false}
          required
        />
        <Select
          label="Period"
          description="UTC days; weeks start on Monday; lifetime never resets"
          data={GRANT_PERIODS}
          value={form.period}
          onChange={(v) => onChange({ ...form, period: (v ?? 'month') as GrantPeriod })}
          allowDeselect={false}
        />
      </>
    );
  }
  return (
    <Textarea
      label="Value (JSON)"
      description='Any JSON up to 1 KB, e.g. {"contextTokens": 200000}'
      value={form.value}
      onChange={(e) => onChange({ ...form, value: e.currentTarget.value })}
      autosize
      minRows={3}
      styles={{ input: { fontFamily: 'monospace' } }}
      required
    />
  );
}
