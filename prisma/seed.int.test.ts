import { beforeAll, describe, expect, it } from 'vitest';
import { resetDb, testRepos } from '@ctxlab/testing/db';
import { seed } from './seed';

describe('seed', () => {
  const repos = testRepos();
  beforeAll(resetDb);

  async function snapshot() {
    const db = repos.db;
    const [models, edges, adapters, recipes] = await Promise.all([
      db.model.findMany({ orderBy: { name: 'asc' } }),
      db.lineageEdge.findMany({ orderBy: { id: 'asc' } }),
      db.adapter.findMany({ orderBy: { name: 'asc' } }),
      db.recipe.findMany({ orderBy: { name: 'asc' } }),
    ]);
    const strip = <T extends { updatedAt?: Date }>(rows: T[]) => rows.map(({ updatedAt: _u, ...r }) => r);
    return { models: strip(models), edges, adapters: strip(adapters), recipes: strip(recipes) };
  }

  it('seeding twice leaves the same rows', async () => {
    await seed(repos.db);
    const once = await snapshot();
    await seed(repos.db);
    const twice = await snapshot();
    expect(twice).toEqual(once);
    expect(once.models).toHaveLength(10);
    expect(once.edges).toHaveLength(7);
    expect(once.adapters).toHaveLength(2);
    expect(once.recipes).toHaveLength(4);
  });

  it('holds the published Gradient recipe exactly', async () => {
    const r = await repos.recipes.getByName('gradient-llama3-70b-1048k');
    expect(r).not.toBeNull();
    const stages = r!.spec.stages;
    expect(stages.map((s) => s.seqLengthLog2)).toEqual([16, 18, 19, 20]);
    expect(stages.map((s) => s.ropeTheta)).toEqual([15_296_098, 207_112_184, 1_062_356_830, 3_580_165_449]);
    expect(stages.map((s) => s.batchSize)).toEqual([64, 16, 8, 1]);
    expect(stages.map((s) => s.gradientAccumulation)).toEqual([1, 1, 2, 4]);
    expect(stages.map((s) => s.steps)).toEqual([20, 25, 25, 8]);
    expect(stages.map((s) => s.declaredTotalTokens)).toEqual([83_886_080, 104_857_600, 209_715_200, 33_554_432]);
    expect(stages.map((s) => s.gpus)).toEqual([512, 512, 512, 128]);
    expect(stages.map((s) => s.wallMinutes)).toEqual([100, 170, 284, 516]);
  });

  it('links the 1048K model back to Llama-3-70B-Instruct through every stage', async () => {
    const m = await repos.models.getByName('Llama-3-70B-Instruct-Gradient-1048k');
    const g = await repos.models.lineage(m!.id);
    const ancestors = g.nodes.filter((n) => n.relation === 'ancestor').sort((a, b) => b.level - a.level).map((n) => n.name);
    expect(ancestors).toEqual([
      'Llama-3-70B-Instruct-Gradient-524k',
      'Llama-3-70B-Instruct-Gradient-262k',
      'Llama-3-70B-Instruct-Gradient-65k',
      'Meta-Llama-3-70B-Instruct',
    ]);
    expect(new Set(g.edges.map((e) => e.kind))).toEqual(new Set(['context-extension']));
  });
});
