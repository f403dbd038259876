/**
 * Python's `str.format` for templates with named fields only (`{context}`, `{OPTION_A}`), as the
 * official prompt code uses it: `{{` and `}}` are literal braces, the substituted values are
 * inserted verbatim (their own braces are not looked at), and a field the template names but
 * `values` lacks is an error (Python raises KeyError). Values the template does not use are ignored.
 */
export function pyFormat(template: string, values: Readonly<Record<string, string>>): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    const close = template.indexOf('}', i);
    if (open < 0 && close < 0) {
      out += template.slice(i);
      break;
    }
    if (close >= 0 && (open < 0 || close < open)) {
      if (template[close + 1] !== '}') throw new Error(`template: single '}' at ${close}`);
      out += template.slice(i, close + 1);
      i = close + 2;
      continue;
    }
    out += template.slice(i, open);
    if (template[open + 1] === '{') {
      out += '{';
      i = open + 2;
      continue;
    }
    const end = template.indexOf('}', open);
    if (end < 0) throw new Error(`template: unclosed '{' at ${open}`);
    const name = template.slice(open + 1, end);
    if (!/^\w+$/.test(name)) throw new Error(`template: unsupported field {${name}}`);
    const v = values[name];
    if (v === undefined) throw new Error(`template: no value for {${name}}`);
    out += v;
    i = end + 1;
  }
  return out;
}
