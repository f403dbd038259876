export { BenchmarkFormatError } from './errors';
export { parseCsv, CsvSyntaxError, type CsvRecord } from './csv';
export { pyFormat } from './format';
export { decodeSkippingSpecials, truncateMiddle, type BuiltPrompt, type MiddleTruncation } from './prompt';
export {
  LONGBENCH_DATASETS,
  LONGBENCH_TASKS,
  LONGBENCH_MODEL_MAX_LENGTH,
  longBenchTaskOf,
  parseLongBenchJsonl,
  buildLongBenchPrompt,
  type LongBenchDataset,
  type LongBenchTask,
  type LongBenchItem,
  type LongBenchPromptOptions,
  type LongBenchPrompt,
} from './longbench';
export {
  INFINITEBENCH_TASK_NAMES,
  INFINITEBENCH_TASKS,
  INFINITEBENCH_TRUNCATE_LEN,
  INFINITEBENCH_GPT4_TRUNCATE_LEN,
  infiniteBenchTaskOfFile,
  parseInfiniteBenchJsonl,
  formatInfiniteBenchPrompt,
  buildInfiniteBenchPrompt,
  type InfiniteBenchTaskName,
  type InfiniteBenchTaskSpec,
  type InfiniteBenchTemplateStyle,
  type InfiniteBenchItem,
  type InfiniteBenchPromptOptions,
  type InfiniteBenchPrompt,
} from './infinitebench';
export {
  MMLU_LETTERS,
  parseMmluCsv,
  formatMmluSubject,
  formatMmluExample,
  formatMmluPrompt,
  buildMmluPrompt,
  mmluLetterFromText,
  mmluLetterFromLogprobs,
  type MmluLetter,
  type MmluSplit,
  type MmluItem,
  type MmluPromptOptions,
  type MmluPrompt,
} from './mmlu';
export { summarizeBenchmarkFiles, detectBenchmarkFormat, digestText, type BenchmarkFormat, type BenchmarkFileSummary } from './digest';
