// Importing models and adapters from their Hugging Face files. Browser-safe: the local-directory
// source (`dirFiles`) is in ./node, which imports node:fs.
export { importHubModel, type HubImport, type HubModelImport, type HubAdapterImport } from './import';
export { memoryFiles, uploadedFiles, type HubFiles } from './files';
export { HubImportError, type HubIssue } from './issues';
export { CONFIG_FILE, type HubModelConfig, type HubFamilyExtras } from './config';
export { ADAPTER_CONFIG_FILE, type HubAdapter } from './adapter';
export { TOKENIZER_CONFIG_FILE, GENERATION_CONFIG_FILE, type HubTokenizerInfo, type HubGenerationConfig } from './tokenizer';
export {
  readSafetensorsHeader,
  SAFETENSORS_DTYPE_BYTES,
  MAX_SAFETENSORS_HEADER_BYTES,
  type SafetensorsHeader,
  type SafetensorsTensor,
  type WeightSummary,
} from './safetensors';
