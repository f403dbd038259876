/** URLs of pages that take more than an id. */
export const cellHref = (runId: string, length: number, depth: number) => `/evals/${runId}/cell?length=${length}&depth=${depth}`;
export const compareHref = (ids: string[], baseline?: string) => `/evals/compare?${ids.map((id) => `ids=${encodeURIComponent(id)}`).join('&')}${baseline ? `&baseline=${encodeURIComponent(baseline)}` : ''}`;

/** Colours of compared runs, in order (lines, swatches). */
export const SERIES_COLORS = ['#2f5bd3', '#c2410c', '#08795a', '#7c3aed'];
