import { QUEUES } from '@ctxlab/queue';
import { evalJobKind, evalJobPayload, type EvalJobPayload } from '../eval-job';

/** A NIAH sweep's job: the run's config holds the spec. */
export const niahEvalPayload = evalJobPayload;
export type NiahEvalPayload = EvalJobPayload;

export const niahEvalJob = evalJobKind('niah-eval', QUEUES.niahEval);
