import { LORA_TARGET_MODULES } from '@ctxlab/longctx';
import type { IssueLog } from './issues';
import { Fields, describe, isObject, type JsonObject } from './json';
import type { SafetensorsHeader } from './safetensors';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';

/** A PEFT LoRA adapter, as adapter_config.json (and its weights' header) describe it. */
export interface HubAdapter {
  peftType: 'LORA';
  /** base_model_name_or_path: the model the adapter was trained on (Hub id or local path). */
  baseModel: string | null;
  rank: number;
  alpha: number;
  dropout: number;
  /** target_modules as a list; PEFT's "all-linear" stays one entry (libs/longctx's loraSize expands it). */
  targetModules: string[];
  /** target_modules given as one regular expression, which PEFT matches against full module names. */
  targetModulesPattern: string | null;
  modulesToSave: string[];
  taskType: string | null;
  useRslora: boolean;
  useDora: boolean;
}

/** Reads adapter_config.json; refuses every PEFT type but LORA by name. Errors are logged; null when the adapter cannot be described. */
export function parseAdapterConfig(log: IssueLog, obj: JsonObject): HubAdapter | null {
  const file = ADAPTER_CONFIG_FILE;
  const f = new Fields(log, file, obj);
  const peftType = f.string('peft_type', 'the PEFT method', true);
  if (peftType !== undefined && peftType !== 'LORA') {
    log.fail(file, 'peft_type', `peft_type ${JSON.stringify(peftType)} is not supported; ctxlab imports LORA adapters only`);
  }
  const rank = f.positiveInt('r', 'the LoRA rank');
  const alpha = f.positiveNumber('lora_alpha', 'the LoRA scaling numerator');
  const dropout = f.positiveNumber('lora_dropout', '', false, true) ?? 0;
  let targetModules: string[] = [];
  let targetModulesPattern: string | null = null;
  const tm = obj.target_modules;
  if (typeof tm === 'string') {
    if (tm === 'all-linear') targetModules = [tm];
    else targetModulesPattern = tm;
  } else if (tm === undefined || tm === null) {
    log.error(file, 'target_modules', 'target_modules is missing; it is required (the modules the adapter changes)');
  } else {
    targetModules = f.strings('target_modules', '') ?? [];
  }
  const known = new Set<string>([...LORA_TARGET_MODULES, 'all-linear']);
  const unknown = targetModules.filter((m) => !known.has(m));
  if (unknown.length) {
    log.warn(file, 'target_modules', `target_modules ${unknown.map((m) => JSON.stringify(m)).join(', ')} are not modules of the supported families (${LORA_TARGET_MODULES.join(', ')}); the planner cannot size them`);
  }
  if (targetModulesPattern !== null) log.warn(file, 'target_modules', `target_modules is a regular expression (${JSON.stringify(targetModulesPattern)}); the planner sizes adapters from module names`);
  const modulesToSave = obj.modules_to_save === null || obj.modules_to_save === undefined ? [] : (f.strings('modules_to_save', '') ?? []);
  for (const k of ['rank_pattern', 'alpha_pattern']) {
    const v = obj[k];
    if (v !== undefined && v !== null && !isObject(v)) log.error(file, k, `${k} must be an object, got ${describe(v)}`);
    else if (isObject(v) && Object.keys(v).length) log.warn(file, k, `${k} gives some modules their own rank or alpha; r ${rank} and lora_alpha ${alpha} are reported for the rest`);
  }
  const useDora = f.boolean('use_dora', '') ?? false;
  if (useDora) log.warn(file, 'use_dora', 'use_dora is true: DoRA adds a magnitude vector per adapted module, which LoRA size estimates leave out');
  const baseModel = f.string('base_model_name_or_path', '') ?? null;
  if (baseModel === null) log.warn(file, 'base_model_name_or_path', 'base_model_name_or_path is missing: the base model must be chosen by hand');
  if (rank === undefined || alpha === undefined) return null;
  return {
    peftType: 'LORA',
    baseModel,
    rank,
    alpha,
    dropout,
    targetModules,
    targetModulesPattern,
    modulesToSave,
    taskType: f.string('task_type', '') ?? null,
    useRslora: f.boolean('use_rslora', '') ?? false,
    useDora,
  };
}

/**
 * Checks adapter weights against the config: every lora_A is (r × in) and every lora_B (out × r),
 * unless rank_pattern sets other ranks. Logged as errors, naming the first tensor that disagrees.
 */
export function checkAdapterRank(log: IssueLog, adapter: HubAdapter, headers: readonly SafetensorsHeader[], hasRankPattern: boolean): void {
  if (hasRankPattern) return;
  for (const h of headers) {
    for (const { name, shape } of h.tensors) {
      const r = /\.lora_A(\.[^.]+)?\.weight$/.test(name) ? shape[0] : /\.lora_B(\.[^.]+)?\.weight$/.test(name) ? shape[1] : undefined;
      if (r !== undefined && r !== adapter.rank) {
        log.error(h.file, name, `tensor "${name}" has rank ${r} (shape ${JSON.stringify(shape)}) but adapter_config.json says r ${adapter.rank}`);
        return;
      }
    }
  }
}
