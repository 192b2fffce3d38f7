import { COUNTER_OF, EXECUTION_STATUSES, type JobSnapshot } from '../api/types';

const W = 640;
const H = 200;
const PAD = { left: 40, right: 10, top: 10, bottom: 24 };

/** Execution counts per status over time, one line each (SVG, no library). */
export function StateChart({ history }: { history: JobSnapshot[] }) {
  if (history.length === 0) return <p className="muted">Waiting for the first reading…</p>;
  const t0 = history[0]!.at;
  const t1 = Math.max(history[history.length - 1]!.at, t0 + 1000);
  const shown = EXECUTION_STATUSES.filter((s) => history.some((h) => (h.jobProcessDetails[COUNTER_OF[s]] ?? 0) > 0));
  const max = Math.max(1, ...history.flatMap((h) => shown.map((s) => h.jobProcessDetails[COUNTER_OF[s]] ?? 0)));
  const x = (at: number): number => PAD.left + ((at - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (n: number): number => H - PAD.bottom - (n / max) * (H - PAD.top - PAD.bottom);
  const latest = history[history.length - 1]!;
  const summary = shown
    .map((s) => `${s.replace(/_/g, ' ').toLowerCase()} ${latest.jobProcessDetails[COUNTER_OF[s]]}`)
    .join(', ');
  const seconds = Math.round((t1 - t0) / 1000);

  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Things by status over the last ${seconds} s: ${summary || 'none yet'}`}
      >
        <line x1={PAD.left} y1={y(0)} x2={W - PAD.right} y2={y(0)} className="axis" />
        <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={y(0)} className="axis" />
        <text x={PAD.left - 6} y={y(max) + 4} textAnchor="end" className="tick">
          {max}
        </text>
        <text x={PAD.left - 6} y={y(0) + 4} textAnchor="end" className="tick">
          0
        </text>
        <text x={W - PAD.right} y={H - 6} textAnchor="end" className="tick">
          {seconds} s
        </text>
        {shown.map((s) => {
          // Counts change in steps: hold each value until the next reading, and up to now.
          const points: string[] = [];
          let held = '';
          for (const h of history) {
            const v = y(h.jobProcessDetails[COUNTER_OF[s]] ?? 0).toFixed(1);
            if (held !== '') points.push(`${x(h.at).toFixed(1)},${held}`);
            points.push(`${x(h.at).toFixed(1)},${v}`);
            held = v;
          }
          points.push(`${x(t1).toFixed(1)},${held}`);
          return (
            <polyline key={s} points={points.join(' ')} className={`line line-${s.toLowerCase().replace(/_/g, '-')}`} />
          );
        })}
      </svg>
      <figcaption>
        <ul className="legend">
          {shown.map((s) => (
            <li key={s}>
              <span className={`swatch seg-${s.toLowerCase().replace(/_/g, '-')}`} aria-hidden="true" />
              {s.replace(/_/g, ' ')}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
