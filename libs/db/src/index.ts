export { createDb, closeAllDbs, type Db } from './client';
export { translateDbError, guard } from './errors';
export { modelsRepo, modelConfigOf, type ModelRecord } from './repos/models';
export { adaptersRepo, type AdapterRecord } from './repos/adapters';
export { recipesRepo, type RecipeRecord } from './repos/recipes';
export { recipeRunsRepo, type RecipeRunRecord, type StagePatch } from './repos/recipe-runs';
export { datasetsRepo, type DatasetRecord } from './repos/datasets';
export { endpointsRepo } from './repos/endpoints';
export { evalsRepo, type CellAggregate, type CellInput, type ScoredCell } from './repos/evals';
export { jobsRepo, LeaseLostError, type LeaseHolder } from './repos/jobs';
export type { ListArgs } from './repos/paging';
export { accountsRepo } from './repos/accounts';
export { readsRepo } from './repos/reads';
export { seedingRepo, type SeedCell } from './repos/seeding';
export { teamsRepo } from './repos/teams';
export { schedulingRepo, GPU_KINDS, periodStart, type PassBase, type PassReader, type QueuedRow, type HeldRow, type UsageRow } from './repos/scheduling';

import type { Db } from './client';
import { accountsRepo } from './repos/accounts';
import { adaptersRepo } from './repos/adapters';
import { datasetsRepo } from './repos/datasets';
import { endpointsRepo } from './repos/endpoints';
import { evalsRepo } from './repos/evals';
import { jobsRepo } from './repos/jobs';
import { modelsRepo } from './repos/models';
import { readsRepo } from './repos/reads';
import { seedingRepo } from './repos/seeding';
import { teamsRepo } from './repos/teams';
import { schedulingRepo } from './repos/scheduling';
import { recipesRepo } from './repos/recipes';
import { recipeRunsRepo } from './repos/recipe-runs';

/** Every repository over one client: what services receive. */
export function repositories(db: Db) {
  return {
    /** Liveness: PostgreSQL answers a trivial query. */
    async ping() {
      await db.$queryRaw`SELECT 1`;
    },
    models: modelsRepo(db),
    adapters: adaptersRepo(db),
    recipes: recipesRepo(db),
    recipeRuns: recipeRunsRepo(db),
    datasets: datasetsRepo(db),
    endpoints: endpointsRepo(db),
    evals: evalsRepo(db),
    jobs: jobsRepo(db),
    accounts: accountsRepo(db),
    reads: readsRepo(db),
    teams: teamsRepo(db),
    scheduling: schedulingRepo(db),
    /** Writes by natural key for the seed, and bulk loads for benchmarks. */
    seeding: seedingRepo(db),
  };
}
export type Repositories = ReturnType<typeof repositories>;
