import type { HeatmapData, LineageKind, ModelConfig } from '@ctxlab/contracts';

/**
 * What a model card is written from: plain data that a caller assembles from the registry (the
 * model row, its lineage edges, adapters, recipe, eval runs, scorecard, serve settings). Every field
 * but the identity is optional, and a section whose facts are absent is left out rather than filled
 * with placeholders. Numbers are printed as given: the card never recomputes a published figure.
 */

/** `base_model_relation` as the Hub defines it (hub-docs, model-cards.md "Specifying a base model"). */
export type BaseModelRelation = 'adapter' | 'merge' | 'quantized' | 'finetune';

/** License fields of the Hub's metadata. */
export interface CardLicense {
  /** Hub license id (`apache-2.0`, `llama3`, `mit` …) or `other`. */
  license?: string;
  /** With `other`: a short id for the license (`license_name`). */
  licenseName?: string;
  /** With `other`: where its text is (`license_link`: a URL, or a file in the repo such as LICENSE). */
  licenseLink?: string;
}

/** Who the model is, as the registry and the Hub know it. */
export interface CardIdentity extends CardLicense {
  /** Registry name. */
  name: string;
  displayName?: string;
  /** Markdown, printed as written under the summary. */
  description?: string;
  family?: string;
  /** Hub repo id (`org/name`) when the model is on the Hub or was imported from it. */
  hfName?: string;
  tags?: string[];
  /** ISO 639-1 codes (`en`, `zh`). */
  languages?: string[];
  /** Hub pipeline tag; default `text-generation`. */
  pipelineTag?: string;
  /** Hub `library_name`; default `transformers` for a model, always `peft` for an adapter. */
  libraryName?: string;
  /** When the registry created it: an ISO date or a Date. */
  createdAt?: string | Date;
}

/** A model the card's model descends from or that descends from it. */
export interface CardRelative {
  /** Registry name. */
  name: string;
  hfName?: string;
  /**
   * For a relative that is not on the Hub: the nearest ancestor that is (its repo id). `base_model`
   * names Hub repos, so a ctxlab-only parent is represented there by this ancestor.
   */
  hubAncestor?: string;
  /** The lineage edge's kind, read from the parent to the child. */
  relation: LineageKind;
  note?: string;
}

/** A LoRA adapter extracted from the model or merged into it. */
export interface CardAdapterRef {
  name: string;
  hfName?: string;
  rank: number;
  alpha: number;
  targetModules: string[];
  /** The model the adapter applies to (registry or Hub name). */
  base: string;
  /** `extracted-from`: the adapter was extracted from this model; `merged-into`: this model is a merge of it. */
  direction: 'extracted-from' | 'merged-into';
  note?: string;
}

/** A stage's measured outcome, e.g. its NIAH average. */
export interface CardStageResult {
  label: string;
  value: number;
  unit?: string;
}

/** One row of a progressive recipe's stage table (Gradient's 65K → 262K → 524K → 1048K is the model). */
export interface CardStage {
  /** 1-based position; default: the row's position. */
  index?: number;
  name: string;
  ropeTheta: number;
  seqLength: number;
  steps?: number;
  /** Tokens per optimiser step (sequence length × global batch). */
  batchTokens?: number;
  /** Sequences per step, when the recipe states it that way. */
  batchSize?: number;
  totalTokens?: number;
  learningRate?: number;
  gpuType?: string;
  gpus?: number;
  wallMinutes?: number;
  /** The stage it continued from; default: the previous row, or the parent for the first. */
  initializedFrom?: string;
  result?: CardStageResult;
}

export interface CardRecipe {
  name: string;
  version?: number | string;
  /** full, lora, qlora … */
  method?: string;
  trainer?: string;
  /** Markdown. */
  description?: string;
  stages: CardStage[];
}

export interface CardDataset {
  name: string;
  /** Where it is: hf://datasets/org/name, https://huggingface.co/datasets/org/name, s3://…, file://… */
  uri?: string;
  /** Hub dataset id; read from `uri` when that is a Hub dataset URI. Only Hub ids go in `datasets:`. */
  hfId?: string;
  tokens?: number;
  samples?: number;
  note?: string;
}

/** ctxlab's suites; any other string is accepted and printed as given. */
export type CardSuite = 'niah' | 'ruler' | 'longbench' | 'infinitebench' | 'mmlu' | 'perplexity' | 'topic-retrieval' | (string & {});

/** One measured number, as an eval run reported it. */
export interface CardEvaluation {
  suite: CardSuite;
  /** What was measured, in words: "NIAH average", "RULER average at 128K", "MMLU 5-shot". */
  label: string;
  /** Sub-task, when the number is one task's (a RULER task, a LongBench dataset). */
  task?: string;
  /** Metric id: accuracy, niah_score, ruler_score, perplexity, f1 … */
  metric: string;
  value: number;
  /** `%`, `points`, `ppl` …; printed after the value. */
  unit?: string;
  /** Context length (tokens) the number was measured at; a maximum for a sweep. */
  contextLength?: number;
  /** Few-shot count (MMLU). */
  shots?: number;
  /** The benchmark's dataset; default: the suite's usual one (e.g. cais/mmlu for MMLU). */
  dataset?: { type: string; name: string; config?: string; split?: string };
  /** ISO date or Date. */
  evaluatedAt?: string | Date;
  /** The eval run behind the number; `url` (when public) becomes the model-index `source`. */
  source?: { runId: string; name?: string; url?: string };
}

/** A NIAH (or RULER-by-length) heatmap drawn beside the card. */
export interface CardHeatmap {
  title: string;
  data: HeatmapData;
  /** File-name slug; default: from the title. The file is `niah-<slug>.svg`. */
  slug?: string;
  /** Markdown printed under the picture. */
  caption?: string;
}

/** One row of the scorecard against the parent (libs/api's ScorecardRow, flattened). */
export interface CardScorecardRow {
  label: string;
  model: number | null;
  parent: number | null;
  /** model − parent. */
  difference: number | null;
  interval: { low: number; high: number } | null;
  verdict: string;
  flag?: string | null;
  unit?: string;
}

export interface CardScorecard {
  /** The model compared against (usually the parent). */
  against: string;
  /** E.g. "95% bootstrap interval of the difference, 2,000 resamples". */
  method?: string;
  rows: CardScorecardRow[];
}

/** How the model is served with vLLM (360Zhinao's published launch is the model). */
export interface CardServing {
  /** The exact command: an argv list (quoted here for a POSIX shell) or a shell line, printed as given. */
  command?: string[] | string;
  /** Environment for the command, printed before it. */
  env?: Record<string, string>;
  maxModelLen?: number;
  tensorParallelSize?: number;
  /** vLLM --kv-cache-dtype (auto, fp8 …). */
  kvCacheDtype?: string;
  gpuMemoryUtilization?: number;
  maxNumBatchedTokens?: number;
  maxNumSeqs?: number;
  enableChunkedPrefill?: boolean;
  enforceEager?: boolean;
  trustRemoteCode?: boolean;
  gpuType?: string;
  gpuCount?: number;
  /** Markdown paragraphs. */
  notes?: string[];
}

export interface ModelCardInput extends CardIdentity {
  config: ModelConfig;
  /** Parameters; computed from `config` when absent (and said so). */
  parameterCount?: number;
  parents?: CardRelative[];
  children?: CardRelative[];
  /** Overrides the relation read from the parents' lineage kinds. */
  baseModelRelation?: BaseModelRelation;
  adapters?: CardAdapterRef[];
  recipe?: CardRecipe;
  trainingData?: CardDataset[];
  evaluations?: CardEvaluation[];
  heatmaps?: CardHeatmap[];
  scorecard?: CardScorecard;
  serving?: CardServing;
  /** Known limitations (Markdown), besides the scorecard's flags. */
  limitations?: string[];
}

export interface AdapterCardInput extends CardIdentity {
  /** The model the adapter is applied to. */
  base: { name: string; hfName?: string; hubAncestor?: string };
  rank: number;
  alpha: number;
  targetModules: string[];
  dropout?: number;
  /** PEFT modules_to_save (trained in full and stored with the adapter). */
  modulesToSave?: string[];
  /** The model it was extracted from (a lora-extract job), when it was. */
  extractedFrom?: { name: string; hfName?: string; note?: string };
  /** Models it has been merged into. */
  mergedInto?: { name: string; hfName?: string }[];
  /** Adapter parameters and size on disk, when known. */
  parameterCount?: number;
  sizeBytes?: number;
  /**
   * RoPE settings the base must be run with for the adapter to work: an adapter extracted from a
   * context-extended model only reproduces it on a base whose rope_theta (and position limit) match.
   */
  baseOverrides?: { ropeTheta?: number; maxPositionEmbeddings?: number };
  recipe?: CardRecipe;
  trainingData?: CardDataset[];
  evaluations?: CardEvaluation[];
  heatmaps?: CardHeatmap[];
  scorecard?: CardScorecard;
  limitations?: string[];
}

/** A file written beside README.md. */
export interface CardFile {
  name: string;
  content: string;
  mediaType: string;
}

export interface RenderedCard {
  readme: string;
  files: CardFile[];
}
