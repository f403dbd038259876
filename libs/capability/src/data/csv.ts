/**
 * RFC 4180 CSV: fields separated by commas, records by CRLF or LF; a field in double quotes may
 * hold commas, line breaks and doubled quotes (""). Unquoted fields are taken verbatim (a quote
 * inside an unquoted field is kept as text, as Python's csv module and pandas do). A final line
 * break does not start an empty record. Each record carries the 1-based line it starts on.
 */
export interface CsvRecord {
  line: number;
  fields: string[];
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(reason);
    this.name = 'CsvSyntaxError';
  }
}

export function parseCsv(text: string): CsvRecord[] {
  const s = text.replace(/^\uFEFF/, '');
  const records: CsvRecord[] = [];
  let line = 1;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (s.charCodeAt(i) === 34 /* " */) {
        const openedOn = line;
        i++;
        for (;;) {
          const q = s.indexOf('"', i);
          if (q < 0) throw new CsvSyntaxError(openedOn, 'a quoted field is never closed');
          const chunk = s.slice(i, q);
          for (let k = chunk.indexOf('\n'); k >= 0; k = chunk.indexOf('\n', k + 1)) line++;
          field += chunk;
          if (s.charCodeAt(q + 1) === 34) {
            field += '"';
            i = q + 2;
          } else {
            i = q + 1;
            break;
          }
        }
        const c = s[i];
        if (i < n && c !== ',' && c !== '\n' && c !== '\r') throw new CsvSyntaxError(line, 'text after the closing quote of a quoted field');
      } else {
        let j = i;
        while (j < n) {
          const c = s.charCodeAt(j);
          if (c === 44 || c === 10 || c === 13) break;
          j++;
        }
        field = s.slice(i, j);
        i = j;
      }
      fields.push(field);
      if (i >= n) break;
      if (s[i] === ',') {
        i++;
        continue;
      }
      // Record end: CRLF, LF or a lone CR.
      if (s[i] === '\r') i++;
      if (s[i] === '\n') i++;
      line++;
      break;
    }
    records.push({ line: start, fields });
  }
  return records;
}
