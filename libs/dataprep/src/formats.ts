/**
 * What each target trainer reads, as checked in its source. The shard layout and record fields
 * below follow from these facts; the citations are repository, path and commit.
 */

/**
 * EasyContext (jzhang38/EasyContext, train.py @ 21904a7175b3739a03dc4d1bd83ebfb768c9c506):
 *  - `--dataset` goes to `datasets.load_dataset(path)`, falling back to `load_from_disk`; a
 *    DatasetDict is narrowed to its "train" split.
 *  - It refuses a dataset without an `input_ids` column and drops every other column, so labels or
 *    masks written beside input_ids are never read.
 *  - Each step takes `input_ids[..., :seq_length + 1]`, inputs the first seq_length tokens and
 *    targets the last seq_length (shifted by one), with position ids 0..seq_length-1: a record
 *    must hold at least seq_length + 1 tokens. Batches are stacked by default_data_collator, so
 *    records of one dataset have one length. We write exactly seq_length + 1.
 *  - It adds no BOS/EOS: separators are the data's. Its default dataset,
 *    emozilla/pg_books-tokenized-bos-eos-chunked-65536, wraps each book in BOS … EOS before
 *    chunking, and that is what `pack` does here. (Fu et al.'s packer, FranxYao/Long-Context-Data-
 *    Engineering data_engineering/slimpajama_packing.py @ a8385dbb81e597f3a1525990291c685731215309,
 *    concatenates Llama-2 tokenizer output, i.e. BOS without EOS, into fixed chunks of
 *    `--chunk_size` 131072 and drops the tail; EasyContext's train_scripts/EasyContext-1M-Llama-2-7B.sh
 *    trains its first two stages on that data, yaofu/slimpajama-per-source-length-upsample.)
 *  - It shuffles the dataset itself (`train_dataset.shuffle(seed=args.seed)`), so shards are
 *    written in source order.
 * Shard layout: `data/train-00000-of-0000N.jsonl`. Hugging Face datasets 2.18.0 (EasyContext's
 * requirements.txt pin; huggingface/datasets src/datasets/data_files.py @
 * ca8409a8bec4508255b9c3e808d0751eb1005260) tries SPLIT_PATTERN_SHARDED
 * `data/{split}-NNNNN-of-NNNNN*.*` first, so exactly these files become the train split and
 * manifest.json beside data/ is never read as data; `.jsonl` maps to the packaged json builder
 * (packaged_modules/__init__.py), which reads JSON Lines with pyarrow. Files whose names start
 * with "." are ignored by that resolver, which is how unfinished shards stay invisible.
 */
export const EASYCONTEXT = {
  format: 'easycontext',
  shardPrefix: 'train',
  /** Tokens in one record for a given `--seq-length`. */
  recordTokens: (seqLength: number) => seqLength + 1,
  reference: 'jzhang38/EasyContext train.py @ 21904a7175b3739a03dc4d1bd83ebfb768c9c506',
} as const;

/**
 * longllm_qlora (FlagOpen/FlagEmbedding, research/Long_LLM/longllm_qlora/src/data.py and
 * src/chat.py @ ed54c4107ed6090dd0d0789f7f58239272dc1d6b):
 *  - each `--train_data` path is a JSON(L) file read with `load_dataset('json', data_files=…)`;
 *    a file with a `text` column is language modelling, one with `conversations` instruction
 *    tuning (`text` is tested first, so the two kinds must not share a file);
 *  - text: tokenised with BOS, truncated to `--max_length`, EOS appended when shorter, labels =
 *    input_ids; records under `--min_length` (default 0) are skipped;
 *  - conversations: a list of {role, content} with roles "user"/"assistant" only (a first message
 *    that is not the user's is dropped; two turns of one role in a row are an error), rendered
 *    with the fastchat template named by `--chat_template` (llama-3 by default); labels are -100
 *    outside the assistant replies; a record longer than `--max_length` is skipped.
 * The loader tokenises and masks by itself, so these shards carry text, not token ids.
 */
export const LONGLLM_QLORA = {
  format: 'longllm-qlora',
  textPrefix: 'text',
  chatPrefix: 'conversations',
  /** Tokens the loader adds around a text record: BOS in front, EOS behind. */
  textOverhead: 2,
  reference: 'FlagOpen/FlagEmbedding research/Long_LLM/longllm_qlora/src/data.py @ ed54c4107ed6090dd0d0789f7f58239272dc1d6b',
} as const;

export const FU_ET_AL_REFERENCE = 'FranxYao/Long-Context-Data-Engineering data_engineering/slimpajama_packing.py @ a8385dbb81e597f3a1525990291c685731215309';
export const DATASETS_REFERENCE = 'huggingface/datasets src/datasets/data_files.py @ ca8409a8bec4508255b9c3e808d0751eb1005260 (2.18.0)';

export type OutputFormat = 'easycontext' | 'longllm-qlora';
