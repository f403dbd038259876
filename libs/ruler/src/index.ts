export { RulerError } from './errors';
export {
  type HaystackType,
  isRulerTaskName,
  type NeedleType,
  RULER_TASK_NAMES,
  RULER_TASKS,
  type RulerFamily,
  type RulerMetric,
  type RulerTaskConfig,
  type RulerTaskName,
} from './tasks/config';
export { NOISE_LINE } from './tasks/common';
export { RULER_DEPTHS } from './tasks/niah';
export { zeta, zipfCounts } from './tasks/fwe';
export { generateRulerSample, type RulerSample, type RulerSampleOptions, rulerSampleId } from './sample';
export {
  effectiveLength,
  postprocessPrediction,
  pythonRound2,
  RULER_EFFECTIVE_LENGTH_THRESHOLD,
  rulerAverage,
  rulerTaskScore,
  scoreRuler,
  scoreRulerPrediction,
} from './metrics';
export { parseHotpotQA, parseSquad, type QaDataset, type QaItem } from './qa-data';
export { parseWordList, type WordLists } from './words';
export { generateTopicRetrievalSample, scoreTopic, TOPIC_MAX_NEW_TOKENS, type TopicSample, type TopicSampleOptions } from './topic';
