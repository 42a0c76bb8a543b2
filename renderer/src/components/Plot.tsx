// A small live line plot on a canvas: a few hundred points at 25 Hz need no chart library, and drawing
// directly keeps each frame to one path. The current value is also text, for screen readers and tests.
// The canvas takes the size the layout gives it (its pixels follow its box), so plots grow on wide screens.
import { useEffect, useRef, useState } from 'react';

export interface PlotProps {
  label: string;
  values: number[];
  min: number;
  max: number;
  unit: string;
  digits?: number;
  /** Draw a dashed line here (a limit, e.g. RTF 1). */
  limit?: number;
  testId: string;
}

export function Plot({ label, values, min, max, unit, digits = 1, limit, testId }: PlotProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  const last = values.length ? values[values.length - 1]! : null;
  const [size, setSize] = useState({ w: 240, h: 56 });
  useEffect(() => {
    const c = ref.current;
    if (!c || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      const dpr = window.devicePixelRatio || 1;
      const w = Math.max(1, Math.round(c.clientWidth * dpr));
      const h = Math.max(1, Math.round(c.clientHeight * dpr));
      setSize((s) => (s.w === w && s.h === h ? s : { w, h }));
    });
    ro.observe(c);
    return () => ro.disconnect();
  }, []);
  useEffect(() => {
    const c = ref.current;
    const g = c?.getContext('2d');
    if (!c || !g) return;
    const w = c.width;
    const h = c.height;
    g.clearRect(0, 0, w, h);
    const y = (v: number) => h - ((Math.min(max, Math.max(min, v)) - min) / (max - min)) * (h - 2) - 1;
    if (limit !== undefined) {
      g.strokeStyle = '#b5475a';
      g.setLineDash([4, 3]);
      g.beginPath();
      g.moveTo(0, y(limit));
      g.lineTo(w, y(limit));
      g.stroke();
      g.setLineDash([]);
    }
    g.strokeStyle = '#6ee7c8';
    g.lineWidth = 1.5 * (window.devicePixelRatio || 1);
    g.beginPath();
    const n = values.length;
    values.forEach((v, i) => {
      const x = w - (n - 1 - i) * (w / 250);
      if (i === 0) g.moveTo(x, y(v));
      else g.lineTo(x, y(v));
    });
    g.stroke();
  }, [values, min, max, limit, size]);
  return (
    <figure className="plot">
      <figcaption>
        <span>{label}</span>
        <output data-testid={testId}>{last === null ? '–' : `${last.toFixed(digits)} ${unit}`}</output>
      </figcaption>
      <div className="plot-area">
        <canvas ref={ref} width={size.w} height={size.h} aria-hidden="true" />
      </div>
    </figure>
  );
}
