/**
 * Capability benchmarks against any endpoint: LongBench, InfiniteBench and MMLU read from their
 * own file formats, prompted and scored as their official code does.
 */
export * from './data/index';
export * from './metrics/index';
export * from './perplexity/index';
