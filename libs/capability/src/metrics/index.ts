export * from './longbench';
export * from './infinitebench';
export { fuzzRatio } from './levenshtein-ratio';
export { jiebaCut } from './jieba';
export { pltrdyRougeLF } from './pltrdy-rouge';
