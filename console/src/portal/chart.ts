import { credits, utcDayLabel, utcYmd } from './format';

/** The usage chart's model, shared by the portal page and `<credits-usage-chart>`: 30 UTC days. */
export const CHART_DAYS = 30;
export const CHART = { width: 640, height: 160, left: 4, right: 4, top: 8, bottom: 2 };

export interface Bar {
  day: string;
  credits: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ChartModel {
  bars: Bar[];
  total: number;
  peak: Bar | null;
  /** Day labels under the axis: the first, the middle and the last day. */
  ticks: Array<{ x: number; label: string }>;
  summary: string;
}

export function chartRange(today = new Date()): { startDate: string; endDate: string } {
  return { startDate: utcYmd(today, -(CHART_DAYS - 1)), endDate: utcYmd(today) };
}

export function dailyChart(byDay: Record<string, number>, today = new Date()): ChartModel {
  const plotWidth = CHART.width - CHART.left - CHART.right;
  const plotHeight = CHART.height - CHART.top - CHART.bottom;
  const slot = plotWidth / CHART_DAYS;
  const days = Array.from({ length: CHART_DAYS }, (_, i) => utcYmd(today, i - (CHART_DAYS - 1)));
  const max = Math.max(1, ...days.map((d) => byDay[d] ?? 0));
  const bars = days.map((day, i) => {
    const value = byDay[day] ?? 0;
    const height = value === 0 ? 0 : Math.max(2, (value / max) * plotHeight);
    return {
      day,
      credits: value,
      x: CHART.left + i * slot + slot * 0.15,
      y: CHART.top + plotHeight - height,
      width: slot * 0.7,
      height,
    };
  });
  const total = bars.reduce((sum, b) => sum + b.credits, 0);
  const peak = total === 0 ? null : bars.reduce((a, b) => (b.credits > a.credits ? b : a));
  const tickAt = (i: number) => ({ x: CHART.left + i * slot + slot / 2, label: utcDayLabel(days[i]) });
  const summary =
    `Daily usage over the last ${CHART_DAYS} UTC days: ${credits(total)} credits in all` +
    (peak ? `, most on ${utcDayLabel(peak.day, true)} (${credits(peak.credits)})` : '');
  return { bars, total, peak, ticks: [tickAt(0), tickAt(Math.floor(CHART_DAYS / 2)), tickAt(CHART_DAYS - 1)], summary };
}
