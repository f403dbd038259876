/** A run's scored cells by task and length (or setting), and how many failed (score null: counted, never scored). */
export function scoresByTaskAndLength(cells: readonly { task: string; contextLength: number; score: number | null }[]): { failed: number; by: Map<string, Map<number, number[]>> } {
  let failed = 0;
  const by = new Map<string, Map<number, number[]>>();
  for (const c of cells) {
    if (c.score === null) {
      failed++;
      continue;
    }
    const t = by.get(c.task) ?? new Map<number, number[]>();
    by.set(c.task, t);
    const list = t.get(c.contextLength);
    if (list) list.push(c.score);
    else t.set(c.contextLength, [c.score]);
  }
  return { failed, by };
}
