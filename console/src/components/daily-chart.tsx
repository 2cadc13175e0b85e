import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

const bars = uPlot.paths.bars!({ size: [0.6, 40] });

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
        scales: { x: { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] } },
        axes: [{ values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toISOString().slice(5, 10)) }, {}],
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
