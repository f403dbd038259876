import type { Dtype } from '@ctxlab/contracts';
import { paramCount } from '@ctxlab/longctx';
import { ADAPTER_CONFIG_FILE, checkAdapterRank, parseAdapterConfig, type HubAdapter } from './adapter';
import { CONFIG_FILE, parseConfig, type HubFamilyExtras, type HubModelConfig } from './config';
import type { HubFiles } from './files';
import { IssueLog, type HubIssue } from './issues';
import { isObject, parseObject } from './json';
import type { WeightSummary } from './safetensors';
import { readGenerationConfig, readTokenizerInfo, type HubGenerationConfig, type HubTokenizerInfo } from './tokenizer';
import { readWeights } from './weights';

interface HubImportBase {
  /** Every file of the repository, as `HubFiles.list` gave them. */
  files: string[];
  /** config.json's `_name_or_path` as written: a Hub id, or the path a trainer saved from. */
  nameOrPath: string | null;
  /** `nameOrPath` when it is a Hub id ("owner/name"), else null. */
  hubName: string | null;
  tokenizer: HubTokenizerInfo;
  generation: HubGenerationConfig | null;
  /** From the safetensors headers; null when the repository has no safetensors weights. */
  weights: WeightSummary | null;
  /** Warnings: the import went through, but these deserve a look. (Errors throw HubImportError.) */
  issues: HubIssue[];
}

/** A model repository: config.json (+ weights, tokenizer and generation files). */
export interface HubModelImport extends HubImportBase {
  kind: 'model';
  /** ctxlab's model config without `tokenizer`, which the caller chooses (see `tokenizer.hasTokenizerJson`). */
  config: HubModelConfig;
  family: HubFamilyExtras;
  /** Parameters the planner computes from `config` (libs/longctx paramCount). */
  configParams: number;
}

/** A PEFT LoRA adapter repository: adapter_config.json (+ adapter_model.safetensors). */
export interface HubAdapterImport extends HubImportBase {
  kind: 'adapter';
  adapter: HubAdapter;
}

export type HubImport = HubModelImport | HubAdapterImport;

/** Checkpoints may carry a few non-parameter tensors (old Llama's rotary inv_freq: 64 per layer); more than this share is a real mismatch. */
const PARAM_TOLERANCE = 1e-5;

const SAFETENSORS_TO_DTYPE: Record<string, Dtype> = { BF16: 'bf16', F16: 'fp16', F32: 'fp32' };
const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/;

const fmt = (n: number) => n.toLocaleString('en-US');

/** The dtype most weight bytes are stored in. */
function dominantDtype(w: WeightSummary): string | null {
  let best: [string, number] | null = null;
  for (const [d, v] of Object.entries(w.byDtype)) if (!best || v.bytes > best[1]) best = [d, v.bytes];
  return best?.[0] ?? null;
}

async function readJson(files: HubFiles, log: IssueLog, file: string) {
  const text = await files.readText(file);
  if (text === null) return log.fail(file, '(file)', 'is listed but cannot be read');
  return parseObject(log, file, text);
}

/**
 * Imports a Hugging Face model or PEFT LoRA adapter from its files: config.json (or
 * adapter_config.json), the safetensors headers, the tokenizer and generation configs. Reads no
 * tensor data. Throws HubImportError listing every error (naming file and field) when the files
 * cannot be planned with as they are; otherwise returns the import with any warnings.
 */
export async function importHubModel(files: HubFiles): Promise<HubImport> {
  const log = new IssueLog();
  const list = await files.list();
  const names = new Set(list);
  if (names.has(ADAPTER_CONFIG_FILE)) return importAdapter(files, list, names, log);
  if (!names.has(CONFIG_FILE)) {
    return log.fail(CONFIG_FILE, '(file)', `is missing, and so is ${ADAPTER_CONFIG_FILE}: this is neither a Hugging Face model nor a PEFT adapter (files: ${list.slice(0, 8).join(', ') || 'none'}${list.length > 8 ? ', …' : ''})`);
  }

  const parsed = parseConfig(log, await readJson(files, log, CONFIG_FILE));
  const weights = await readWeights(files, list, log, 'model');
  const tokenizer = await readTokenizerInfo(files, names, log);
  const generation = await readGenerationConfig(files, names, log);
  if (!parsed) {
    log.throwIfErrors();
    // parseConfig returns null only after logging an error; this keeps the types honest.
    return log.fail(CONFIG_FILE, '(file)', 'could not be read into a model config');
  }
  const { config, family } = parsed;

  const stored = weights ? dominantDtype(weights.summary) : null;
  if (!parsed.dtypeStated) {
    const inferred = stored ? SAFETENSORS_TO_DTYPE[stored] : undefined;
    if (inferred) config.dtype = inferred;
    log.warn(CONFIG_FILE, 'torch_dtype', `torch_dtype is missing; ${inferred ? `${inferred}, the dtype the weights are stored in,` : 'bf16'} is taken`);
  } else if (stored && SAFETENSORS_TO_DTYPE[stored] && SAFETENSORS_TO_DTYPE[stored] !== config.dtype && !family.quantization) {
    log.warn(CONFIG_FILE, 'torch_dtype', `torch_dtype says ${config.dtype} but the weights are stored as ${stored}; vLLM's --dtype auto follows torch_dtype`);
  }

  const configParams = paramCount(config).total;
  if (weights && !family.quantization) {
    const held = weights.summary.params;
    const diff = held - configParams;
    if (Math.abs(diff) > configParams * PARAM_TOLERANCE) {
      const where = weights.summary.files.length > 1 ? 'model.safetensors.index.json' : (weights.summary.files[0] ?? 'model.safetensors');
      const embed = config.vocabSize * config.hiddenSize;
      const hint =
        diff === embed && config.tieWordEmbeddings
          ? ': lm_head is stored although tie_word_embeddings is true'
          : diff === -embed && !config.tieWordEmbeddings
            ? ': no lm_head is stored, so tie_word_embeddings should probably be true'
            : '; the config does not describe these weights (another architecture variant, or a wrong field)';
      log.error(where, 'parameters', `the safetensors hold ${fmt(held)} parameters but config.json's ${config.architecture} architecture has ${fmt(configParams)} (${diff > 0 ? '+' : ''}${fmt(diff)})${hint}`);
    }
  } else if (!weights && !log.hasErrors) {
    const bin = list.some((n) => /^pytorch_model(-\d+-of-\d+)?\.bin$/.test(n));
    log.warn('model.safetensors', '(file)', bin ? 'is missing (the weights are pytorch_model*.bin pickles): the parameter count is not checked against the weights' : 'is missing, and so is an index of shards: the parameter count is not checked against the weights');
  }
  log.throwIfErrors();
  const hubName = parsed.nameOrPath && HUB_ID.test(parsed.nameOrPath) ? parsed.nameOrPath : null;
  return { kind: 'model', files: list, nameOrPath: parsed.nameOrPath, hubName, config, family, configParams, tokenizer, generation, weights: weights?.summary ?? null, issues: log.issues };
}

async function importAdapter(files: HubFiles, list: string[], names: Set<string>, log: IssueLog): Promise<HubAdapterImport> {
  const obj = await readJson(files, log, ADAPTER_CONFIG_FILE);
  const adapter = parseAdapterConfig(log, obj);
  const weights = await readWeights(files, list, log, 'adapter_model');
  const tokenizer = await readTokenizerInfo(files, names, log);
  const generation = await readGenerationConfig(files, names, log);
  if (adapter && weights) {
    const patterned = isObject(obj.rank_pattern) && Object.keys(obj.rank_pattern).length > 0;
    checkAdapterRank(log, adapter, weights.headers, patterned);
  } else if (!weights && !log.hasErrors) {
    log.warn('adapter_model.safetensors', '(file)', names.has('adapter_model.bin') ? 'is missing (the weights are adapter_model.bin, a pickle): the adapter is not checked against its weights' : 'is missing: the adapter is not checked against its weights');
  }
  log.throwIfErrors();
  if (!adapter) return log.fail(ADAPTER_CONFIG_FILE, '(file)', 'could not be read into an adapter');
  // An adapter's own name is not in its files; adapter.baseModel names what it adapts.
  return {
    kind: 'adapter',
    files: list,
    nameOrPath: null,
    hubName: null,
    adapter,
    tokenizer,
    generation,
    weights: weights?.summary ?? null,
    issues: log.issues,
  };
}
