import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { Heatmap, type HeatmapProps } from './Heatmap';
import { LineageGraph } from './LineageGraph';
import { diffColor, scoreColor } from '@ctxlab/contracts';

const render = (p: HeatmapProps) => renderToStaticMarkup(createElement(Heatmap, p));

/** The <rect> of one grid cell, by its data-x / data-y. */
function cell(svg: string, x: number, y: number): string {
  const m = svg.match(new RegExp(`<rect[^>]*data-x="${x}" data-y="${y}"[^>]*>`));
  if (!m) throw new Error(`no cell ${x},${y}`);
  return m[0];
}
const attr = (el: string, name: string) => el.match(new RegExp(`${name}="([^"]*)"`))?.[1];

describe('scoreColor: the field scale red → yellow → green over 0–100', () => {
  it('hits the three stops exactly', () => {
    expect(scoreColor(0).toLowerCase()).toBe('#f0496e');
    expect(scoreColor(50).toLowerCase()).toBe('#ebb839');
    expect(scoreColor(100).toLowerCase()).toBe('#0cd79f');
  });

  it('interpolates linearly in RGB between the stops', () => {
    // 25: halfway from #F0496E to #EBB839 → (237.5, 128.5, 83.5) rounded half up.
    expect(scoreColor(25)).toBe('#ee8154');
    // 75: halfway from #EBB839 to #0CD79F → (123.5, 199.5, 108) rounded.
    expect(scoreColor(75)).toBe('#7cc86c');
    // 10: a fifth of the way to yellow.
    const r = Math.round(0xf0 + (0xeb - 0xf0) * 0.2), g = Math.round(0x49 + (0xb8 - 0x49) * 0.2), b = Math.round(0x6e + (0x39 - 0x6e) * 0.2);
    expect(scoreColor(10)).toBe(`#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`);
  });

  it('clamps outside 0–100', () => {
    expect(scoreColor(-5)).toBe(scoreColor(0));
    expect(scoreColor(140)).toBe(scoreColor(100));
  });

  it('the difference scale is neutral at 0 and follows the sign', () => {
    expect(diffColor(0)).toBe('#f4f5f7');
    expect(diffColor(-50)).toBe('#f0496e');
    expect(diffColor(50)).toBe('#0cd79f');
  });
});

describe('<Heatmap> static markup', () => {
  const lengths = [1000, 2000, 4000];
  const depths = [0, 0.5, 1];
  const matrix = [
    [0, 50, 100],
    [25, null, 75],
    [100, 100, null],
  ];
  const svg = render({ lengths, depths, matrix, name: 'Llama-3-8B-80K' });

  it('colours every scored cell with the scale', () => {
    expect(attr(cell(svg, 0, 0), 'fill')).toBe('#f0496e');
    expect(attr(cell(svg, 1, 0), 'fill')).toBe('#ebb839');
    expect(attr(cell(svg, 2, 0), 'fill')).toBe('#0cd79f');
    expect(attr(cell(svg, 0, 1), 'fill')).toBe(scoreColor(25));
    expect(attr(cell(svg, 2, 1), 'fill')).toBe(scoreColor(75));
    expect(attr(cell(svg, 0, 0), 'data-score')).toBe('0');
  });

  it('draws a missing cell hatched grey, not as a zero', () => {
    const missing = cell(svg, 1, 1);
    expect(attr(missing, 'data-missing')).toBe('true');
    expect(attr(missing, 'data-score')).toBeUndefined();
    const fill = attr(missing, 'fill')!;
    expect(fill).toMatch(/^url\(#hm-missing-/);
    expect(fill).not.toBe(scoreColor(0));
    // The fill refers to a hatch pattern (grey with diagonal lines) defined in the same SVG.
    const id = fill.slice(5, -1);
    const pattern = svg.match(new RegExp(`<pattern id="${id}"[^>]*>(.*?)</pattern>`))?.[1] ?? '';
    expect(pattern).toContain('fill="#d9dce1"');
    expect(pattern).toMatch(/<line[^>]*stroke="#9aa1ad"/);
    expect(svg).toMatch(/<title>2,000 tokens, depth 50%: no score<\/title>/);
    // A zero-score cell is red and says 0.
    expect(svg).toMatch(/<title>1,000 tokens, depth 0%: 0.0<\/title>/);
  });

  it('puts lengths on x ("Token Limit") and depth on y with 0 at the top', () => {
    const top = cell(svg, 0, 0);
    const bottom = cell(svg, 0, 2);
    expect(attr(top, 'data-depth')).toBe('0');
    expect(attr(bottom, 'data-depth')).toBe('1');
    expect(Number(attr(top, 'y'))).toBeLessThan(Number(attr(bottom, 'y')));
    expect(Number(attr(cell(svg, 0, 0), 'x'))).toBeLessThan(Number(attr(cell(svg, 2, 0), 'x')));
    expect(attr(cell(svg, 2, 0), 'data-length')).toBe('4000');
    expect(svg).toContain('Token Limit');
    expect(svg).toContain('Depth Percent');
  });

  it('shows the average of the scored cells in the title (missing cells left out, not counted as 0)', () => {
    const avg = (0 + 50 + 100 + 25 + 75 + 100 + 100) / 7;
    expect(svg).toContain(`Pressure Testing Llama-3-8B-80K. Avg score ${avg.toFixed(2)}`);
  });

  it('a grid with nothing scored yet is all missing and says n/a', () => {
    const empty = render({ lengths, depths, matrix: depths.map(() => lengths.map(() => null)) });
    expect(empty.match(/data-missing="true"/g)).toHaveLength(9);
    expect(empty).not.toContain('data-score');
    expect(empty).toContain('Avg score n/a');
  });

  it('renders a 35 × 35 grid (1,225 cells) with thinned axis labels', () => {
    const L = Array.from({ length: 35 }, (_, i) => 1000 * (i + 1));
    const D = Array.from({ length: 35 }, (_, i) => i / 34);
    const big = render({ lengths: L, depths: D, matrix: D.map((_, y) => L.map((_, x) => ((x + y) * 3) % 101)) });
    expect(big.match(/data-x="/g)).toHaveLength(1225);
    expect(big.match(/<text[^>]*rotate\(-45/g)!.length).toBeLessThan(35);
  });

  it('the difference scale colours by sign and marks cells only one run has as missing', () => {
    const d = render({ lengths: [1, 2], depths: [0], matrix: [[-50, null]], scale: 'diff', name: 'B − A' });
    expect(attr(cell(d, 0, 0), 'fill')).toBe(diffColor(-50));
    expect(attr(cell(d, 1, 0), 'data-missing')).toBe('true');
    expect(d).toContain('Mean difference -50.0');
  });
});

describe('<LineageGraph> static markup', () => {
  it('draws every node as a link and edges with their kind, linking the producing job', () => {
    const html = renderToStaticMarkup(
      createElement(LineageGraph, {
        graph: {
          root: 'b',
          nodes: [
            { id: 'a', name: 'Meta-Llama-3-70B-Instruct', level: -1, maxPositionEmbeddings: 8192, relation: 'ancestor' },
            { id: 'b', name: 'Gradient-65k', level: 0, maxPositionEmbeddings: 65536, relation: 'self' },
            { id: 'c', name: 'Gradient-262k', level: 1, maxPositionEmbeddings: 262144, relation: 'descendant' },
          ],
          edges: [
            { id: 'e1', parentId: 'a', childId: 'b', kind: 'context-extension', jobId: 'job1' },
            { id: 'e2', parentId: 'b', childId: 'c', kind: 'lora-merge', jobId: null },
          ],
        },
        modelHref: (id) => `/models/${id}`,
        jobHref: (id) => `/jobs/${id}`,
      }),
    );
    expect(html).toContain('href="/models/a"');
    expect(html).toContain('href="/models/c"');
    expect(html).toContain('href="/jobs/job1"');
    expect(html).toContain('65K context');
    expect(html).toContain('lora-merge');
    expect(html.match(/data-kind="/g)).toHaveLength(2);
  });
});

describe('Heatmap with row labels (RULER: tasks by length)', () => {
  it('labels rows with the tasks, titles the axis, and widens the margin to fit them', () => {
    const svg = render({ lengths: [4096, 8192], depths: [0, 1], matrix: [[100, 50], [null, 0]], rowLabels: ['niah_multikey_2', 'vt'], rowAxisTitle: 'Task', title: 'RULER' });
    expect(svg).toContain('>niah_multikey_2</text>');
    expect(svg).toContain('>vt</text>');
    expect(svg).toContain('>Task</text>');
    expect(svg).not.toContain('Depth Percent');
    expect(svg).toContain('<title>8,192 tokens, niah_multikey_2: 50.0</title>');
    // The grid starts right of the longest label: 15 characters × 6.2 px + 34.
    expect(attr(cell(svg, 0, 0), 'x')).toBe(String(Math.ceil(15 * 6.2) + 34));
    expect(attr(cell(svg, 0, 1), 'data-missing')).toBe('true');
  });
});
