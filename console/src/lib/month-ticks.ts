/** Room a month's label (`2026-11`) takes on the axis, with the gap to the next, in CSS pixels. */
const MONTH_LABEL_PX = 64;

/** Every month of `xs` when their labels fit in `width` pixels, else every k-th, ending with the latest. */
export function monthTicks(xs: number[], width: number): number[] {
  const step = Math.max(1, Math.ceil((xs.length * MONTH_LABEL_PX) / Math.max(width, 1)));
  return xs.filter((_, i) => (xs.length - 1 - i) % step === 0);
}
