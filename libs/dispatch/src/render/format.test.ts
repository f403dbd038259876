import { describe, expect, it } from 'vitest';
import { num, sequence, shellQuote, toYaml } from './format';

describe('formatting', () => {
  it('numbers as command lines take them', () => {
    expect([num(3_580_165_449), num(2e-5), num(5e-5), num(0.6), num(1e9), num(200e6)]).toEqual(['3580165449', '2e-5', '5e-5', '0.6', '1000000000', '200000000']);
  });

  it('YAML: quotes what YAML 1.1 would misread, floats in PyYAML form, nested lists of maps', () => {
    expect(toYaml({ lr: 2e-5, small: 1e-7, flag: 'yes', version: '0.6', none: null, path: '/a b/c', list: ['x', { b: 1, c: [] }], empty: {} })).toBe(
      ['lr: 0.00002', 'small: 1.0e-7', 'flag: "yes"', 'version: "0.6"', 'none: null', 'path: "/a b/c"', 'list:', '  - x', '  - b: 1', '    c: []', 'empty: {}', ''].join('\n'),
    );
  });

  it('shell: quotes only when needed; steps run under sh -e', () => {
    expect(shellQuote('/a/b+c')).toBe('/a/b+c');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(sequence([['a', 'b c'], ['d']])).toEqual(['sh', '-ec', "a 'b c'\nd"]);
    expect(sequence([['only']])).toEqual(['only']);
  });
});
