import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, parseCsv } from './csv';

describe('parseCsv (RFC 4180)', () => {
  it('reads plain, quoted and empty fields, doubled quotes and line breaks inside quotes', () => {
    const text = 'a,b,c\n"x, y","say ""hi""",\n"two\nlines",,"end"\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['x, y', 'say "hi"', ''] },
      { line: 3, fields: ['two\nlines', '', 'end'] },
    ]);
  });

  it('takes CRLF as a record end, keeps CRLF inside quotes, and needs no final line break', () => {
    expect(parseCsv('a,b\r\n"1\r\n2",3')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1\r\n2', '3'] },
    ]);
  });

  it('counts lines across quoted line breaks', () => {
    const recs = parseCsv('"q\n\nq",1\nnext,2\n');
    expect(recs.map((r) => r.line)).toEqual([1, 4]);
  });

  it('keeps quotes inside unquoted fields and drops a BOM', () => {
    expect(parseCsv('\uFEFFit\'s a "test",2\n')).toEqual([{ line: 1, fields: ['it\'s a "test"', '2'] }]);
  });

  it('reads an empty text as no records and a lone line break as one empty field', () => {
    expect(parseCsv('')).toEqual([]);
    expect(parseCsv('\n')).toEqual([{ line: 1, fields: [''] }]);
  });

  it('refuses an unclosed quote and text after a closing quote, naming the line', () => {
    const unclosed = (() => {
      try {
        parseCsv('a,b\nc,"open\nstill open');
      } catch (e) {
        return e;
      }
    })() as CsvSyntaxError;
    expect(unclosed).toBeInstanceOf(CsvSyntaxError);
    expect(unclosed.line).toBe(2);
    expect(() => parseCsv('"a"b,c')).toThrow(/after the closing quote/);
  });
});
