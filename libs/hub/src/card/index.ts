// Hugging Face model and adapter cards: render, parse, validate, read back. Pure: no fs, no database.
export { renderAdapterCard, renderModelCard } from './render';
export { cardMetadata, cardMetadataSchema, formatPath, KNOWN_CARD_KEYS, ModelCardError, parseModelCard, splitFrontMatter, validateModelCard } from './parse';
export type { CardEvalResult, CardMetadata, ModelCardIssue, ParsedModelCard } from './parse';
export { baseModelRelation, modelIndexResults, SUITE_NAMES } from './metadata';
export type { ModelIndexMetric, ModelIndexResult } from './metadata';
export type * from './types';
