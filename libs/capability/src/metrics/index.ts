export {
  LONGBENCH_METRIC,
  classificationScore,
  codeSimScore,
  countScore,
  longBenchEScores,
  longBenchEScoresFromRaw,
  longBenchItemScore,
  longBenchRawItemScore,
  longBenchTaskScore,
  longBenchTaskScoreFromRaw,
  normalizeAnswer,
  normalizeZhAnswer,
  qaF1Score,
  qaF1ZhScore,
  retrievalScore,
  retrievalZhScore,
  rougeScore,
  rougeZhScore,
  tokenF1,
  type LongBenchEScores,
  type LongBenchMetric,
} from './longbench';
export {
  INFINITEBENCH_METRIC,
  infiniteBenchChoiceLabel,
  infiniteBenchChoiceMatch,
  infiniteBenchItemScore,
  infiniteBenchQaF1,
  infiniteBenchQaF1Zh,
  infiniteBenchRougeLsum,
  isInfiniteBenchScoredTask,
  rougeLsumF,
  type InfiniteBenchTask,
} from './infinitebench';
export { fuzzRatio } from './levenshtein-ratio';
export { jiebaCut } from './jieba';
export { pltrdyRougeLF } from './pltrdy-rouge';
