import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

import { monthTicks } from '../lib/month-ticks';
import { yAxisSize } from './daily-chart';

const AXIS_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

/**
 * Money per UTC month as lines (uPlot). `months` are `YYYY-MM`; values are the API's decimal strings,
 * turned into numbers only to be drawn (the tables show the strings themselves).
 */
export function MonthlyMoneyChart(props: {
  title: string;
  months: string[];
  currency: string;
  series: Array<{ label: string; values: string[]; color: string }>;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const xs = props.months.map((month) => Date.parse(`${month}-01T00:00:00Z`) / 1000);
    const plot = new uPlot(
      {
        width: Math.max(320, element.clientWidth),
        height: 240,
        // room on the right for the latest month's label, centred on the last point
        padding: [null, 28, null, null],
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        scales: {
          y: { range: (_u, min, max) => [Math.min(0, min), uPlot.rangeNum(0, Math.max(1, max), 0.1, true)[1]] },
        },
        axes: [
          {
            font: AXIS_FONT,
            // a tick per month, on its first day; on a narrow screen every k-th month (the latest always),
            // so that labels never overlap
            splits: (u) => monthTicks(xs, u.bbox.width ? u.bbox.width / uPlot.pxRatio : element.clientWidth - 80),
            values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toISOString().slice(0, 7)),
          },
          {
            font: AXIS_FONT,
            size: yAxisSize,
            values: (_u, ticks) => ticks.map((t) => `${t.toLocaleString('en-US')} ${props.currency.toUpperCase()}`),
          },
        ],
        series: [
          { label: 'UTC month', value: (_u, t) => (t == null ? '—' : new Date(t * 1000).toISOString().slice(0, 7)) },
          ...props.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: true } })),
        ],
      },
      [xs, ...props.series.map((s) => s.values.map(Number))],
      element,
    );
    return () => plot.destroy();
  }, [props.months, props.series, props.currency]);
  return <div ref={ref} role="img" aria-label={props.title} />;
}
