export interface Series {
  name: string;
  points: readonly (readonly [x: number, y: number])[];
  /** Index into the palette; by default the series' own index. */
  color?: number;
  dashed?: boolean;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** Space the x values evenly (for 1, 8, 32, 64, 128) rather than to scale. */
  categoricalX?: boolean;
  /** A logarithmic y axis, decades from the smallest value to the largest. */
  logY?: boolean;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const W = 780;
const H = 400;
const M = { top: 48, right: 200, bottom: 56, left: 84 };
/** Room for a legend of more series. */
const WIDE_RIGHT = 300;

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Round tick step: 1, 2 or 5 times a power of ten, about five ticks to the range. */
function niceStep(max: number): number {
  const raw = max / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

const label = (n: number): string =>
  n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : Number.isInteger(n) ? String(n) : n.toFixed(1);

function svgStart(width: number, height: number, title: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escape(title)}</text>`,
  ];
}

export interface BarChart {
  title: string;
  yLabel: string;
  bars: readonly { name: string; value: number }[];
}

/** A bar chart as a standalone SVG document: one bar per value, labelled with it. */
export function barChart(chart: BarChart): string {
  const yMax = Math.max(1, ...chart.bars.map((b) => b.value));
  const step = niceStep(yMax);
  const top = Math.ceil(yMax / step) * step;
  const plotW = W - M.left - 40;
  const plotH = H - M.top - M.bottom;
  const yAt = (y: number): number => M.top + plotH - (y / top) * plotH;
  const parts = svgStart(W, H, chart.title);
  for (let y = 0; y <= top + step / 2; y += step) {
    parts.push(
      `<line x1="${M.left}" x2="${M.left + plotW}" y1="${yAt(y)}" y2="${yAt(y)}" stroke="#ddd"/>`,
      `<text x="${M.left - 8}" y="${yAt(y) + 4}" text-anchor="end">${label(y)}</text>`,
    );
  }
  const slot = plotW / chart.bars.length;
  chart.bars.forEach((bar, i) => {
    const x = M.left + slot * i + slot * 0.2;
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${yAt(bar.value).toFixed(1)}" width="${(slot * 0.6).toFixed(1)}" height="${(M.top + plotH - yAt(bar.value)).toFixed(1)}" fill="${COLORS[i % COLORS.length]!}"/>`,
      `<text x="${(x + slot * 0.3).toFixed(1)}" y="${(yAt(bar.value) - 6).toFixed(1)}" text-anchor="middle">${Math.round(bar.value).toLocaleString('en-US')}</text>`,
      `<text x="${(x + slot * 0.3).toFixed(1)}" y="${M.top + plotH + 18}" text-anchor="middle">${escape(bar.name)}</text>`,
    );
  });
  parts.push(
    `<line x1="${M.left}" x2="${M.left + plotW}" y1="${M.top + plotH}" y2="${M.top + plotH}" stroke="#333"/>`,
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + plotH}" stroke="#333"/>`,
    `<text transform="translate(18 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(chart.yLabel)}</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}

/** A line chart as a standalone SVG document: axes, grid, one line per series, a legend. */
export function lineChart(chart: LineChart): string {
  const xs = [...new Set(chart.series.flatMap((s) => s.points.map(([x]) => x)))].sort((a, b) => a - b);
  const ys = chart.series.flatMap((s) => s.points.map(([, y]) => y));
  const yMax = Math.max(1, ...ys);
  const step = niceStep(yMax);
  const top = Math.ceil(yMax / step) * step;
  // Log scale: whole decades, from the one holding the smallest value to the one above the largest.
  const lowDecade = Math.floor(Math.log10(Math.max(1, Math.min(...ys))));
  const highDecade = Math.max(lowDecade + 1, Math.ceil(Math.log10(yMax)));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const xMin = xs[0] ?? 0;
  const xMax = xs[xs.length - 1] ?? 1;
  const xAt = (x: number): number =>
    M.left +
    (chart.categoricalX ? (xs.length === 1 ? 0.5 : xs.indexOf(x) / (xs.length - 1)) : xMax === xMin ? 0.5 : (x - xMin) / (xMax - xMin)) *
      plotW;
  const yAt = (y: number): number =>
    chart.logY === true
      ? M.top + plotH - ((Math.log10(Math.max(y, 10 ** lowDecade)) - lowDecade) / (highDecade - lowDecade)) * plotH
      : M.top + plotH - (y / top) * plotH;
  // The legend sits right of the plot; long names get a wider margin, the plot keeps its size.
  const right = Math.max(...chart.series.map((series) => series.name.length)) > 24 ? WIDE_RIGHT : M.right;
  const width = W - M.right + right;
  const height = Math.max(H, M.top + chart.series.length * 22 + 16);
  const parts = svgStart(width, height, chart.title);
  const ticks =
    chart.logY === true
      ? Array.from({ length: highDecade - lowDecade + 1 }, (_, i) => 10 ** (lowDecade + i))
      : Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
  for (const y of ticks) {
    parts.push(
      `<line x1="${M.left}" x2="${M.left + plotW}" y1="${yAt(y)}" y2="${yAt(y)}" stroke="#ddd"/>`,
      `<text x="${M.left - 8}" y="${yAt(y) + 4}" text-anchor="end">${label(y)}</text>`,
    );
  }
  for (const x of xs) {
    parts.push(`<text x="${xAt(x)}" y="${M.top + plotH + 18}" text-anchor="middle">${label(x)}</text>`);
  }
  parts.push(
    `<line x1="${M.left}" x2="${M.left + plotW}" y1="${M.top + plotH}" y2="${M.top + plotH}" stroke="#333"/>`,
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + plotH}" stroke="#333"/>`,
    `<text x="${M.left + plotW / 2}" y="${H - 14}" text-anchor="middle">${escape(chart.xLabel)}</text>`,
    `<text transform="translate(18 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(chart.yLabel)}</text>`,
  );
  chart.series.forEach((series, i) => {
    const color = COLORS[(series.color ?? i) % COLORS.length]!;
    const dash = series.dashed === true ? ' stroke-dasharray="6 4"' : '';
    const points = [...series.points].sort(([a], [b]) => a - b);
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2.5"${dash} points="${points.map(([x, y]) => `${xAt(x).toFixed(1)},${yAt(y).toFixed(1)}`).join(' ')}"/>`,
      ...points.map(([x, y]) => `<circle cx="${xAt(x).toFixed(1)}" cy="${yAt(y).toFixed(1)}" r="3.5" fill="${color}"/>`),
      `<line x1="${W - M.right + 16}" x2="${W - M.right + 30}" y1="${M.top + i * 22 + 2}" y2="${M.top + i * 22 + 2}" stroke="${color}" stroke-width="3"${dash}/>`,
      `<text x="${W - M.right + 36}" y="${M.top + i * 22 + 6}">${escape(series.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
