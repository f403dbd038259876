import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { HBarChart, type HBarChartProps } from './HBarChart';

const render = (p: HBarChartProps) => renderToStaticMarkup(createElement(HBarChart, p));
const usd = (v: number) => `$${v.toFixed(4)}`;

describe('HBarChart', () => {
  it('draws a row per label with its formatted value at the end and in the tooltip', () => {
    const svg = render({
      id: 'teams', title: 'Cost per team', description: 'USD spent per team this month', format: usd,
      rows: [{ label: 'vision', value: 0.004, detail: '0.01 GPU-h' }, { label: 'text', value: 0.002 }, { label: 'idle', value: 0 }],
    });
    expect(svg).toContain('role="img"');
    expect(svg).toContain('aria-labelledby="teams-title"');
    expect(svg).toContain('<title id="teams-title">Cost per team</title>');
    expect(svg).toContain('<desc id="teams-desc">USD spent per team this month</desc>');
    // No bar for a zero, but its row and value still show.
    expect(svg.match(/<rect[^>]*data-value=/g)).toHaveLength(2);
    expect(svg.match(/data-row="/g)).toHaveLength(3);
    expect(svg).toContain('<title>vision: $0.0040, 0.01 GPU-h</title>');
    expect(svg).toContain('<title>text: $0.0020</title>');
    expect([...svg.matchAll(/data-role="value">([^<]*)</g)].map((m) => m[1])).toEqual(['$0.0040', '$0.0020', '$0.0000']);
    // Lengths in proportion: the axis tops at 0.005, so vision's bar is twice text's.
    const widths = [...svg.matchAll(/<rect x="[^"]*" y="[^"]*" width="([^"]*)"[^>]*data-value=/g)].map((m) => Number(m[1]));
    expect(widths[0]! / widths[1]!).toBeCloseTo(2, 5);
  });

  it('labels the value axis in round steps, fractions included', () => {
    const ticks = (max: number) => [...render({ title: 't', rows: [{ label: 'a', value: max }] }).matchAll(/text-anchor="middle" fill="#4d5361">([^<]*)</g)].map((m) => m[1]);
    expect(ticks(7)).toEqual(['0', '2', '4', '6', '8', '10']);
    expect(ticks(0.04)).toEqual(['0', '0.01', '0.02', '0.03', '0.04', '0.05']);
    expect(ticks(1500)).toEqual(['0', '500', '1,000', '1,500', '2,000']);
  });

  it('labels fewer steps when a narrow chart has no room for them all', () => {
    const ticks = (max: number, width: number) => [...render({ title: 't', width, rows: [{ label: 'a', value: max }] }).matchAll(/text-anchor="middle" fill="#4d5361">([^<]*)</g)].map((m) => m[1]);
    expect(ticks(0.0007, 640)).toEqual(['0', '0.0002', '0.0004', '0.0006', '0.0008', '0.001']);
    expect(ticks(0.0007, 300)).toEqual(['0', '0.001']);
    expect(ticks(1500, 200)).toEqual(['0', '1,000', '2,000']);
  });

  it('draws a reference line the axis reaches, named by its label', () => {
    const svg = render({ title: 'Actual ÷ estimate', rows: [{ label: 'job a', value: 0.5 }], reference: { value: 1, label: 'as estimated' } });
    expect(svg).toMatch(/<g data-role="reference"><line x1="([\d.]+)" x2="\1"/);
    expect(svg).toContain('>as estimated</text>');
    // The axis runs to 1 (the reference), so the 0.5 bar spans half the plot.
    const x = Number(svg.match(/<g data-role="reference"><line x1="([\d.]+)"/)![1]);
    const bar = svg.match(/<rect x="([\d.]+)" y="[^"]*" width="([\d.]+)"[^>]*data-value="0.5"/)!;
    expect(Number(bar[2])).toBeCloseTo((x - Number(bar[1])) / 2, 5);
  });

  it('shortens a label too long for its room and keeps the whole one in a tooltip', () => {
    const long = 'a-very-long-training-job-output-name-that-goes-on';
    const svg = render({ title: 't', rows: [{ label: long, value: 1 }], labelWidth: 100 });
    expect(svg).toContain(`<title>${long}</title>`);
    expect(svg).toMatch(/>a-very-long-[a-z-]*…<title>/);
  });
});
