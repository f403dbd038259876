/**
 * Colour scales. The score scale is the field's NIAH convention (gkamradt, 360Zhinao, Gradient):
 * red → yellow → green over 0–100 with stops #F0496E, #EBB839, #0CD79F, linear in RGB between them.
 */

type Rgb = readonly [number, number, number];

export const SCORE_STOPS: readonly (readonly [number, Rgb])[] = [
  [0, [0xf0, 0x49, 0x6e]],
  [50, [0xeb, 0xb8, 0x39]],
  [100, [0x0c, 0xd7, 0x9f]],
];

/** Fill of a cell that has no score (not run yet, or its request failed): grey, drawn hatched. */
export const MISSING_FILL = '#d9dce1';
export const MISSING_STROKE = '#9aa1ad';

const hex = (c: Rgb) => `#${c.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
const mix = (a: Rgb, b: Rgb, t: number): Rgb => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];

function piecewise(stops: readonly (readonly [number, Rgb])[], v: number): string {
  const first = stops[0]!;
  const last = stops[stops.length - 1]!;
  const x = Math.max(first[0], Math.min(last[0], v));
  let i = 0;
  while (i < stops.length - 2 && x > stops[i + 1]![0]) i++;
  const [s0, c0] = stops[i]!;
  const [s1, c1] = stops[i + 1]!;
  return hex(mix(c0, c1, s1 === s0 ? 0 : (x - s0) / (s1 - s0)));
}

/** The colour of a score from 0 to 100 (clamped); lower-case #rrggbb. */
export function scoreColor(score: number): string {
  return piecewise(SCORE_STOPS, score);
}

export const SCORE_STOP_HEX = SCORE_STOPS.map(([s, c]) => [s, hex(c)] as const);

/** Diverging scale for differences (run − baseline) from −100 to +100: worse red, same near-white, better green. */
export const DIFF_STOPS: readonly (readonly [number, Rgb])[] = [
  [-100, [0xc0, 0x26, 0x4a]],
  [-50, [0xf0, 0x49, 0x6e]],
  [0, [0xf4, 0xf5, 0xf7]],
  [50, [0x0c, 0xd7, 0x9f]],
  [100, [0x06, 0x8f, 0x69]],
];

export function diffColor(delta: number): string {
  return piecewise(DIFF_STOPS, delta);
}

export const DIFF_STOP_HEX = DIFF_STOPS.map(([s, c]) => [s, hex(c)] as const);

/** Dark or light text for a background, by WCAG relative luminance (keeps ≥ 4.5:1 on every scale colour). */
export function inkOn(background: string): string {
  const n = Number.parseInt(background.slice(1), 16);
  const ch = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const lum = 0.2126 * ch[0]! + 0.7152 * ch[1]! + 0.0722 * ch[2]!;
  return lum > 0.18 ? '#16181d' : '#ffffff';
}
