export { NiahError, type NiahErrorCode } from './errors';
export { Rng, hashSeed } from './rng';
export { sha256Hex } from './sha256';
export {
  type Corpus,
  type CorpusDocument,
  CorpusIndex,
  corpusTokenCount,
  corpusTokenCountYielding,
  splitDocument,
  DOC_SEPARATOR,
  getCorpusIndex,
  lastAtOrBelow,
  loadCorpusFromTexts,
  normalizeDocumentText,
  sentenceEnds,
} from './corpus';
export * from './needles';
export { buildPrompt, type BuiltPrompt, type NeedleInsert, type Placement, type PlacedNeedle, type PromptRecipe } from './prompt';
export { depthValues, GRID_PRESETS, type GridPreset, gridSize, type GridSize, lengthValues, linspace, logisticPercent, resolveGrid, type ResolvedGrid, roundHalfEven } from './grid';
export {
  chineseWords,
  editSimilarity,
  f1,
  levenshtein,
  SCORERS,
  scoreAnswer,
  type ScoreReference,
  type Scorer,
  zhinaoChineseScore,
  zhinaoEnglishScore,
} from './scorers';
export {
  buildNiahCell,
  cellId,
  generateNiahCells,
  type GenerateOptions,
  naiveCellOrder,
  type NiahCell,
  type NiahCellKey,
  type NiahContext,
  planNiahCells,
  resolveNiahSpec,
  type ResolvedNiahSpec,
  sampleStartDocument,
  scoreNiahCell,
} from './engine';
export { PrefixCacheSimulator, prefillLowerBound, simulatePrefill, type PrefixCacheOptions, type PrefixCacheReport, type RequestCacheStats } from './prefix-cache';
export {
  type CompletionOutcome,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type FailureKind,
  type GeneratedTokenLogprob,
  type GenerationOptions,
  OpenAIClient,
  type OpenAIClientOptions,
  type PromptLogprobsOptions,
  type PromptLogprobsOutcome,
  type TopLogprob,
  type TopLogprobsOptions,
  type TopLogprobsOutcome,
  type Usage,
} from './client';
export {
  failedCellsMessage,
  type GkamradtExportOptions,
  type GkamradtRecord,
  heatmapData,
  pythonUtcTimestamp,
  resultsToCsv,
  suiteCellsToCsv,
  SUITE_CSV_COLUMNS,
  type SuiteCellRow,
  toCellResult,
  toGkamradtResults,
} from './results';
/** The heatmap's one drawing (the portal's), for the CLI's heatmap.svg. */
export { heatmapSvg, type HeatmapData, type HeatmapSvgOptions } from '@ctxlab/contracts';
export { runNiahCells, type RunCellsOptions } from './run';
export { runSweep, type SweepHold, type SweepOptions, type SweepOutcome, type SweepSink, type SweepTally } from './sweep';
