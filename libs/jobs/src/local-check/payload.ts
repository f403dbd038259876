import { QUEUES } from '@ctxlab/queue';
import { evalJobKind, evalJobPayload, type EvalJobPayload } from '../eval-job';

/** A local check of a lab model (perplexity, round trips): the run's config holds the spec. */
export const localCheckPayload = evalJobPayload;
export type LocalCheckPayload = EvalJobPayload;

export const localCheckJob = evalJobKind('local-check', QUEUES.localCheck);
