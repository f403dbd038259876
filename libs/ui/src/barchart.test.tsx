import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { BarChart, niceCeil, type BarChartProps } from './BarChart';

const render = (p: BarChartProps) => renderToStaticMarkup(createElement(BarChart, p));

describe('BarChart', () => {
  it('rounds the axis top up to 1, 2 or 5 × 10^k', () => {
    expect([0, 0.3, 1, 7, 12, 20, 21, 499, 501].map(niceCeil)).toEqual([1, 0.5, 1, 10, 20, 20, 50, 500, 1000]);
  });

  it('draws a bar per non-zero value, named with its series, category and value, and a legend entry per series', () => {
    const svg = render({
      id: 'h', title: 'Document lengths', description: 'documents per length bucket', unit: 'documents',
      categories: ['<1K', '1K–2K', '2K–4K'],
      series: [{ name: 'essays', color: '#2f5bd3', values: [12, 3, 0] }, { name: 'web', color: '#c2410c', values: [0, 8, 1] }],
      detail: (s, c) => `series ${s} bucket ${c}`,
    });
    expect(svg).toContain('role="img"');
    expect(svg).toContain('aria-labelledby="h-title"');
    expect(svg).toContain('<title id="h-title">Document lengths</title>');
    expect(svg).toContain('<desc id="h-desc">documents per length bucket</desc>');
    expect(svg.match(/<rect[^>]*data-series=/g)).toHaveLength(4);
    expect(svg).toContain('<title>essays, &lt;1K: 12 documents, series 0 bucket 0</title>');
    expect(svg).toContain('<title>web, 2K–4K: 1 documents, series 1 bucket 2</title>');
    expect(svg.match(/data-legend="/g)).toHaveLength(2);
    // The tallest bar reaches the axis top (20): 12 of 20 is 60 % of the plot's height.
    const bar = svg.match(/<rect x="[^"]*" y="([^"]*)" width="[^"]*" height="([^"]*)" fill="#2f5bd3" data-series="essays"/)!;
    const tallest = svg.match(/<rect x="[^"]*" y="[^"]*" width="[^"]*" height="([^"]*)" fill="#c2410c" data-series="web"/)!;
    expect(Number(bar[2]) / Number(tallest[1])).toBeCloseTo(12 / 8, 5);
  });

  it('labels the y axis in round steps', () => {
    const ticks = (max: number) => [...render({ title: 't', categories: ['a'], series: [{ name: 's', color: '#000', values: [max] }] }).matchAll(/text-anchor="end" fill="#4d5361">([^<]*)</g)].map((m) => m[1]);
    expect(ticks(7)).toEqual(['0', '2', '4', '6', '8', '10']);
    expect(ticks(12)).toEqual(['0', '5', '10', '15', '20']);
    expect(ticks(4100)).toEqual(['0', '1,000', '2,000', '3,000', '4,000', '5,000']);
    expect(ticks(0.4)).toEqual(['0', '0.1', '0.2', '0.3', '0.4', '0.5']);
  });

  it('tilts category labels that would not fit under their group', () => {
    const categories = Array.from({ length: 12 }, (_, i) => `${2 ** i}K–${2 ** (i + 1)}K tokens`);
    const svg = render({ title: 't', categories, series: [{ name: 's', color: '#000', values: categories.map(() => 1) }] });
    expect(svg).toContain('rotate(-35');
  });
});
