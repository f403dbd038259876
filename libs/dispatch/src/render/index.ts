import { parseJobSpec, type JobSpec, type JobSpecInput } from '../specs';
import { renderLabExtract, renderLabMerge, renderLabServe } from './lab';
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
      return spec.tool === 'lab' ? renderLabExtract(spec, opts) : renderLoraExtract(spec, opts);
    case 'lora-merge':
      return spec.tool === 'lab' ? renderLabMerge(spec, opts) : renderLoraMerge(spec, opts);
    case 'serve':
      return spec.engine === 'lab' ? renderLabServe(spec, opts) : renderServe(spec, opts);
  }
}
