import { badRequest, type SuiteStartInput } from '@ctxlab/contracts';
import type { JobsDeps } from '../deps';
import { createQueuedRun, requestIdempotencyKey } from '../eval-runs';
import { checkSuiteSpec, type SuiteLimits, suiteRunKind } from '../suites';

/** Starts a suite run: the same request twice starts one run (see requestIdempotencyKey). */
export async function startSuiteEval(deps: JobsDeps, input: SuiteStartInput & { requestedBy: string; limits: SuiteLimits }) {
  const { repos } = deps;
  const endpoint = await repos.endpoints.get(input.endpointId).catch(() => null);
  if (!endpoint || endpoint.archivedAt) throw badRequest(`endpointId: endpoint ${input.endpointId} does not exist`, 'endpointId');
  const { spec, cells } = await checkSuiteSpec(repos, input.spec, input.limits);
  const mode = input.mode ?? 'chat';
  const config = { spec, concurrency: input.concurrency, mode };
  const what = { kind: 'suite-eval', endpointId: endpoint.id, modelId: endpoint.modelId ?? null, ...config };
  return createQueuedRun(deps, {
    idempotencyKey: requestIdempotencyKey(spec.suite, what, input),
    job: { kind: 'suite-eval', spec: { ...what, requestedBy: input.requestedBy } },
    run: { name: input.name, kind: suiteRunKind(spec), endpointId: endpoint.id, modelId: endpoint.modelId ?? null, config, cellsTotal: cells },
  });
}

