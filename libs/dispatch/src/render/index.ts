import { parseJobSpec, type JobSpec, type JobSpecInput } from '../specs';
import { renderLoraExtract, renderLoraMerge } from './mergekit';
import { renderTrain } from './train';
import type { RenderOptions, RenderedJob } from './types';
import { renderServe } from './vllm';

/** Validates a job spec and renders the command that runs it. Pure: no files are written. */
export function renderJob(input: JobSpecInput | JobSpec, opts: RenderOptions = {}): RenderedJob {
  const spec = parseJobSpec(input);
  switch (spec.kind) {
    case 'train':
      return renderTrain(spec, opts);
    case 'lora-extract':
      return renderLoraExtract(spec, opts);
    case 'lora-merge':
      return renderLoraMerge(spec, opts);
    case 'serve':
      return renderServe(spec, opts);
  }
}
