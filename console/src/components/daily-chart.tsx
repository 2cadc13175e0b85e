import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

import { credits } from '../lib/format';

const bars = uPlot.paths.bars!({ size: [0.6, 40] });

/** The axes' font, set explicitly so the y axis can be sized to its widest label. */
const AXIS_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
/** Whole-credit tick steps (1, 2, 5, 10, 20, 50…): a credit axis never shows 0.5. */
const INTEGER_INCRS = Array.from({ length: 16 }, (_, e) => [1, 2, 5].map((m) => m * 10 ** e)).flat();

let measure: CanvasRenderingContext2D | null = null;
/** Text width in CSS pixels in the axis font. */
function textWidth(text: string): number {
  measure ??= document.createElement('canvas').getContext('2d');
  if (!measure) return text.length * 8;
  measure.font = AXIS_FONT;
  return measure.measureText(text).width;
}

/**
 * The y axis as wide as its widest label (uPlot's fixed default cut "10,000" to "0,000"): ticks, gap
 * and the text, measured on each layout pass.
 */
export function yAxisSize(self: uPlot, values: string[] | null, axisIdx: number): number {
  const axis = self.axes[axisIdx];
  const widest = Math.max(0, ...(values ?? []).map(textWidth));
  return Math.ceil((axis.ticks?.size ?? 10) + (axis.gap ?? 5) + widest + 8);
}

/**
 * Credits per UTC day as bars (uPlot). `days` are `YYYY-MM-DD` UTC dates; the x axis is labelled in
 * UTC whatever the browser's timezone. Values are the API's integers, plotted as given.
 */
export function DailyChart(props: {
  /** Bars for one series; lines when several share a day. */
  lines?: boolean;
  days: string[];
  series: Array<{ label: string; values: number[]; color: string }>;
  title: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const xs = props.days.map((day) => Date.parse(`${day}T00:00:00Z`) / 1000);
    const plot = new uPlot(
      {
        width: Math.max(320, element.clientWidth),
        height: 220,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        // Half a day either side, so the first and last bars show whole.
        scales: {
          x: { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] },
          // From zero, up to at least 1 (an empty month is a flat line at 0, not a scale of 0 to 0).
          y: { range: (_u, _min, max) => [0, uPlot.rangeNum(0, Math.max(1, max), 0.1, true)[1]] },
        },
        axes: [
          {
            font: AXIS_FONT,
            values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toISOString().slice(5, 10)),
          },
          {
            font: AXIS_FONT,
            size: yAxisSize,
            incrs: INTEGER_INCRS,
            // Credits are integers: grouped as everywhere else in the console.
            values: (_u, ticks) => ticks.map((t) => credits(t)),
          },
        ],
        series: [
          { label: 'UTC day', value: (_u, t) => (t == null ? '—' : new Date(t * 1000).toISOString().slice(0, 10)) },
          ...props.series.map((s) => ({
            label: s.label,
            stroke: s.color,
            fill: props.lines ? undefined : `${s.color}99`,
            width: 1,
            paths: bars,
          })),
        ],
      },
      [xs, ...props.series.map((s) => s.values)],
      element,
    );
    return () => plot.destroy();
  }, [props.days, props.series, props.lines]);
  return <div ref={ref} role="img" aria-label={props.title} />;
}
