/**
 * The key tree of the chart's values.yaml, for checking that templates and Terraform only use
 * values the chart declares. Not a YAML parser: it reads the block-mapping subset values.yaml is
 * written in (`key: value`, `key:` followed by an indented mapping, `[]`/`{}` for empty
 * collections, comments) and fails loudly on anything else, so that a values.yaml growing
 * beyond that subset breaks this test instead of being misread.
 */
export type KeyTree = Map<string, KeyTree>;

export function valuesKeyTree(text: string): KeyTree {
  const root: KeyTree = new Map();
  const stack: { indent: number; node: KeyTree }[] = [{ indent: -1, node: root }];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\s+#.*$/, '').replace(/^\s*#.*$/, '');
    if (line.trim() === '') return;
    const m = /^( *)([A-Za-z0-9_.\/-]+):(?: (.*))?$/.exec(line);
    if (!m) throw new Error(`values.yaml line ${i + 1}: outside the subset this reader knows: ${raw}`);
    const indent = (m[1] ?? '').length;
    const key = m[2] ?? '';
    while (stack.length > 1 && stack[stack.length - 1]!.indent >= indent) stack.pop();
    const node: KeyTree = new Map();
    stack[stack.length - 1]!.node.set(key, node);
    if (m[3] === undefined || m[3].trim() === '') stack.push({ indent, node });
  });
  return root;
}

/** Whether a dotted path ("portal.ingress.host") names a key in the tree. */
export function hasPath(tree: KeyTree, path: readonly string[]): boolean {
  let node: KeyTree | undefined = tree;
  for (const key of path) {
    node = node?.get(key);
    if (!node) return false;
  }
  return true;
}
