/** The fields an entry changed (`field: before → after`); a creation or deletion shows the whole object. */
export function describeChange(before: Record<string, unknown> | null, after: Record<string, unknown> | null): string {
  if (!before || !after) return JSON.stringify(after ?? before, null, 1);
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const changed = keys.filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
  if (changed.length === 0) return 'no change';
  return changed.map((key) => `${key}: ${JSON.stringify(before[key])} → ${JSON.stringify(after[key])}`).join('\n');
}
