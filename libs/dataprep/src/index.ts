// Training data for a recipe stage: plan schema, tokenising, up-sampling, mixing, packing and the
// trainers' record formats. File reading and shard writing live in '@ctxlab/dataprep/node'.
export { DataprepError, fieldPath, type DataprepErrorCode, type ErrorPlace } from './errors';
export { DATASETS_REFERENCE, EASYCONTEXT, FU_ET_AL_REFERENCE, LONGLLM_QLORA, type OutputFormat } from './formats';
export { longllmConversation, TextPiecer } from './longllm';
export { LengthSampler, Mixer, readAhead } from './mix';
export { Packer, type PackedRecord, type PackerOptions, type PackingMode } from './packer';
export { lengthUpsampleSchema, parsePlan, preparePlanSchema, sourceSpecSchema, type LengthUpsample, type PreparePlan, type PreparePlanInput, type SourceSpec } from './plan';
export { conversationsLine, IdsLineEncoder, textLine } from './records';
export { countDocument, emptyHistogram, emptySourceStats, LENGTH_BUCKETS, lengthBucket, type LengthBucket, type PrepareStats, type SourceStats } from './stats';
export { cutSafeSegments, encodeChatWithMask, MAX_UNCUT_CHARS, SEGMENT_CHARS, type TokenizedChat } from './tokenize';
