import { QUEUES } from '@ctxlab/queue';
import { evalJobKind, evalJobPayload, type EvalJobPayload } from '../eval-job';

/** A RULER, topic-retrieval or capability run: the run's config holds the spec. */
export const suiteEvalPayload = evalJobPayload;
export type SuiteEvalPayload = EvalJobPayload;

export const suiteEvalJob = evalJobKind('suite-eval', QUEUES.suiteEval);
