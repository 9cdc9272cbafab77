/** A small line chart of a series over time, drawn as SVG. */
export function Sparkline(props: { label: string; values: number[]; width?: number; height?: number }) {
  const w = props.width ?? 220;
  const h = props.height ?? 40;
  const vs = props.values;
  const max = Math.max(1, ...vs);
  const step = vs.length > 1 ? w / (vs.length - 1) : w;
  const pts = vs.map((v, i) => `${(i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`).join(" ");
  return (
    <figure class="spark" data-testid={`chart-${props.label}`}>
      <figcaption>
        {props.label} <strong>{vs.length ? vs[vs.length - 1] : "–"}</strong> <span class="muted">max {max}</span>
      </figcaption>
      <svg width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={props.label}>
        {vs.length > 1 ? (
          <polyline points={pts} fill="none" stroke="currentColor" stroke-width="1.5" />
        ) : (
          <text x="4" y={h / 2}>
            collecting…
          </text>
        )}
      </svg>
    </figure>
  );
}
