import { CHART, type ChartModel } from './chart';
import { credits, utcDayLabel } from './format';

/** The 30-day usage chart: an SVG with a text summary, and the figures as a table for whoever wants them. */
export function DailyUsageChart({ model }: { model: ChartModel }) {
  return (
    <figure className="chart">
      <figcaption id="usage-chart-caption">{model.summary}.</figcaption>
      <svg
        viewBox={`0 0 ${CHART.width} ${CHART.height}`}
        role="img"
        aria-labelledby="usage-chart-caption"
        preserveAspectRatio="none"
      >
        <line
          className="axis"
          x1={CHART.left}
          x2={CHART.width - CHART.right}
          y1={CHART.height - CHART.bottom}
          y2={CHART.height - CHART.bottom}
        />
        {model.bars.map((bar) => (
          <rect
            key={bar.day}
            className={bar === model.peak ? 'bar peak' : 'bar'}
            x={bar.x}
            y={bar.y}
            width={bar.width}
            height={bar.height}
          >
            <title>{`${utcDayLabel(bar.day, true)}: ${credits(bar.credits)} credits`}</title>
          </rect>
        ))}
      </svg>
      <div className="ticks" aria-hidden="true">
        {model.ticks.map((tick) => (
          <span key={tick.x}>{tick.label}</span>
        ))}
      </div>
      <details>
        <summary>Daily figures (UTC days)</summary>
        <div className="table-wrap" role="region" aria-label="Daily usage figures" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">Day (UTC)</th>
                <th scope="col" className="num">
                  Credits
                </th>
              </tr>
            </thead>
            <tbody>
              {model.bars
                .filter((b) => b.credits > 0)
                .map((b) => (
                  <tr key={b.day}>
                    <td>{utcDayLabel(b.day, true)}</td>
                    <td className="num">{credits(b.credits)}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
