import type { HeatmapData } from './results';

/** The field's colour scale (gkamradt / 360Zhinao): 0 → #F0496E, 50 → #EBB839, 100 → #0CD79F. */
const STOPS: [number, [number, number, number]][] = [
  [0, [0xf0, 0x49, 0x6e]],
  [50, [0xeb, 0xb8, 0x39]],
  [100, [0x0c, 0xd7, 0x9f]],
];

export function scoreColor(score: number): string {
  const s = Math.max(0, Math.min(100, score));
  let i = 0;
  while (i < STOPS.length - 2 && s > STOPS[i + 1]![0]) i++;
  const [s0, c0] = STOPS[i]!;
  const [s1, c1] = STOPS[i + 1]!;
  const t = (s - s0) / (s1 - s0);
  const hex = c0.map((v, k) => Math.round(v + (c1[k]! - v) * t).toString(16).padStart(2, '0')).join('');
  return `#${hex}`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmtLength(n: number): string {
  return String(n);
}

function fmtPercent(d: number): string {
  const p = Math.round(d * 100_000) / 1000;
  return Number.isInteger(p) ? String(p) : p.toFixed(1);
}

export interface HeatmapSvgOptions {
  /** Model or run name for the title. */
  name?: string;
  cellWidth?: number;
  cellHeight?: number;
}

/**
 * The NIAH heatmap as a standalone SVG string (no DOM): x = context length ("Token Limit"),
 * y = depth percent with 0 at the top, the red → yellow → green scale over 0–100 with a
 * colour bar, the average score in the title; cells without a score are grey and hatched.
 */
export function heatmapSvg(data: HeatmapData, opts: HeatmapSvgOptions = {}): string {
  const cw = opts.cellWidth ?? Math.max(28, Math.min(64, Math.floor(900 / Math.max(1, data.lengths.length))));
  const ch = opts.cellHeight ?? Math.max(14, Math.min(40, Math.floor(480 / Math.max(1, data.depths.length))));
  const left = 90;
  const top = 64;
  const gridW = cw * data.lengths.length;
  const gridH = ch * data.depths.length;
  const barX = left + gridW + 28;
  const width = barX + 80;
  const height = top + gridH + 90;
  const avg = data.average === null ? 'n/a' : data.average.toFixed(2);
  const title = `Pressure Testing ${opts.name ?? 'model'}. Avg score ${avg}`;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    '<defs><pattern id="missing" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">' +
      '<rect width="6" height="6" fill="#d9d9d9"/><line x1="0" y1="0" x2="0" y2="6" stroke="#9e9e9e" stroke-width="2"/></pattern>' +
      '<linearGradient id="scale" x1="0" y1="1" x2="0" y2="0">' +
      STOPS.map(([s, c]) => `<stop offset="${s}%" stop-color="#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}"/>`).join('') +
      '</linearGradient></defs>',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left + gridW / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="${left + gridW / 2}" y="40" text-anchor="middle" font-size="12">Fact Retrieval Across Context Lengths ("Needle In A HayStack")</text>`,
  );
  data.depths.forEach((d, y) => {
    data.lengths.forEach((l, x) => {
      const v = data.matrix[y]?.[x] ?? null;
      const fill = v === null ? 'url(#missing)' : scoreColor(v);
      const label = v === null ? 'no score' : v.toFixed(1);
      out.push(
        `<rect x="${left + x * cw}" y="${top + y * ch}" width="${cw}" height="${ch}" fill="${fill}" stroke="#ffffff" stroke-width="0.5" data-length="${l}" data-depth="${d}"${v === null ? ' data-missing="true"' : ` data-score="${v}"`}><title>${l} tokens, depth ${fmtPercent(d)}%: ${label}</title></rect>`,
      );
    });
    out.push(`<text x="${left - 6}" y="${top + y * ch + ch / 2 + 4}" text-anchor="end">${fmtPercent(d)}</text>`);
  });
  data.lengths.forEach((l, x) => {
    const cx = left + x * cw + cw / 2;
    out.push(`<text x="${cx}" y="${top + gridH + 12}" text-anchor="end" transform="rotate(-45 ${cx} ${top + gridH + 12})">${fmtLength(l)}</text>`);
  });
  out.push(
    `<text x="${left + gridW / 2}" y="${height - 10}" text-anchor="middle" font-size="12">Token Limit</text>`,
    `<text x="20" y="${top + gridH / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 20 ${top + gridH / 2})">Depth Percent</text>`,
    `<rect x="${barX}" y="${top}" width="16" height="${gridH}" fill="url(#scale)"/>`,
  );
  for (const s of [0, 20, 40, 60, 80, 100]) {
    const yy = top + gridH - (s / 100) * gridH;
    out.push(`<line x1="${barX + 16}" y1="${yy}" x2="${barX + 20}" y2="${yy}" stroke="#000"/><text x="${barX + 23}" y="${yy + 4}">${s}</text>`);
  }
  out.push(`<text x="${barX + 60}" y="${top + gridH / 2}" text-anchor="middle" transform="rotate(90 ${barX + 60} ${top + gridH / 2})">Score</text>`, '</svg>');
  return out.join('\n');
}
