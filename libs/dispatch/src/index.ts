/**
 * @ctxlab/dispatch — the GPU-dispatch core: long-context job specs → the exact command → run it
 * locally or on Kubernetes → follow it → report what it produced.
 *
 *   const job = renderJob(spec);                 // validate + render: argv, env, files (pure)
 *   const h = await executor.start(jobId, job);  // LocalExecutor | KubernetesExecutor; ids are idempotency keys
 *   for await (const line of h.logs()) …;        // from the first line, following until the end
 *   const { exitCode, reason } = await h.wait(); // succeeded | failed | cancelled | timeout | stopped
 *   await artifacts.digest(job.outputs[0]);      // size + sha256 of what it wrote (file:// or s3://)
 *
 * Specs (zod): train (EasyContext / BAAI longllm_qlora), lora-extract and lora-merge (mergekit
 * 0.1.x), serve (vLLM, refused with WONT_FIT when max-model-len cannot fit the KV cache).
 * Errors are DispatchError with a code, a message a person can act on, and the field at fault.
 * A spec's environment and every string that reaches a command line or a path are checked by
 * policy/ (README: "Trust model"), at parse time and again by each executor before it starts.
 * Test doubles (a Kubernetes API server on a real socket) and the field notes' seed jobs are in
 * `@ctxlab/dispatch/testing`.
 */

export { DispatchError, type DispatchErrorCode } from './errors';

// Artifact addressing
export { parseUri, parseS3Prefix, isArtifactUri, fileUri, s3Uri, hfUri, defaultUriResolver, type ParsedUri, type UriResolver } from './uri';
export {
  Artifacts,
  LocalArtifactStore,
  directoryManifest,
  directoryFiles,
  fileSha256,
  type ArtifactConfig,
  type ArtifactStore,
  type ArtifactInfo,
  type ArtifactFile,
} from './artifacts';
export { S3ArtifactStore, MANIFEST_NAME, UPLOAD_PART_SIZE, PRESIGN_DEFAULT_SECONDS, PRESIGN_MAX_SECONDS } from './s3';
export { s3ConfigFromEnv, S3_CREDENTIALS_HELP, type S3StoreConfig, type S3Credentials } from './s3-config';

// Job specs
export {
  MERGEKIT_VERSION,
  artifactUriSchema,
  outputUriSchema,
  trainerSchema,
  trainSpecSchema,
  loraExtractSpecSchema,
  loraMergeSpecSchema,
  serveSpecSchema,
  jobSpecSchema,
  parseJobSpec,
  trainSpecFromRecipe,
  type Trainer,
  type TrainSpec,
  type TrainSpecInput,
  type LoraExtractSpec,
  type LoraMergeSpec,
  type ServeSpec,
  type JobSpec,
  type JobSpecInput,
  type JobKind,
} from './specs';

// What a job may run with (environment allow-lists, checks every executor applies)
export { TOOL_ENV, deniedBecause, specEnvIssues, renderedEnvIssues, type EnvIssue } from './policy/env';
export { checkRenderedJob, checkLocalWrites, jobFilePath } from './policy/job';

// Renderers (pure)
export { renderJob } from './render/index';
export {
  renderTrain,
  renderEasyContext,
  renderQlora,
  accelerateConfig,
  accelerateConfigDocument,
  deepSpeedZero3Config,
  ACCELERATE_CONFIG_FILE,
  DEEPSPEED_CONFIG_FILE,
  LONGLLM_QLORA_DDP_ISSUE,
} from './render/train';
export { renderLoraExtract, renderLoraMerge, mergeConfigDocument, PATCH_CONFIG_SCRIPT, MERGE_CONFIG_FILE, PATCH_CONFIG_FILE, DEFAULT_LORA_MERGE_CACHE } from './render/mergekit';
export { renderServe, planServe, servingInput, HEALTH_PATH } from './render/vllm';
export { renderLabTrain, renderLabExtract, renderLabMerge, renderLabServe, DEFAULT_LAB_MODEL_DIR, DEFAULT_LAB_SERVER } from './render/lab';
export { shellQuote, shellJoin, toYaml, type YamlValue } from './render/format';
// Tool contracts: the external tools' options and config keys, read from their source at pinned commits
export {
  checkArgs,
  checkConfig,
  checkJobContracts,
  closestName,
  configContract,
  contractLabel,
  parseToolContract,
  CONTRACT_IDS,
  RUNTIME_SAMPLES,
  TOOL_CONTRACTS,
  type CheckedArgs,
  type CheckedProgram,
  type CheckOptions,
  type ConfigFileContract,
  type ConfigKeyContract,
  type ContractId,
  type ContractIssue,
  type ContractIssueKind,
  type ContractSource,
  type FlagContract,
  type JobContractReport,
  type ToolContract,
  type ValueType,
} from './render/contracts';
export {
  NODE_RANK_ENV,
  MASTER_ADDR_ENV,
  NODE_RANK_REF,
  MASTER_ADDR_REF,
  type RenderedJob,
  type JobStaging,
  type RenderedFile,
  type ToolId,
  type RenderOptions,
  type JobResources,
} from './render/types';

// Executors
export {
  FINAL_PHASES,
  isFinalPhase,
  type Executor,
  type JobHandle,
  type JobPhase,
  type JobResult,
  type JobStatus,
  type LogLine,
  type PoolCapacity,
  type StartOptions,
} from './executors/types';
export { LocalExecutor, BASE_ENV, processGroupAlive, parseGpuInventory, type LocalExecutorOptions } from './executors/local';
export { KubernetesExecutor, kubeError, type KubernetesExecutorOptions } from './executors/kubernetes/executor';
export {
  renderKubeObjects,
  kubeName,
  jobIdLabel,
  gpuTypeLabelValue,
  ownedBy,
  LABEL_JOB_ID,
  LABEL_KIND,
  ANNOTATION_JOB_ID,
  CONTAINER_NAME,
  WORK_DIR,
  STAGE_DIR,
  STAGE_EXIT_FILE,
  type KubeManifestOptions,
  type KubeObjects,
} from './executors/kubernetes/manifests';
export { LineSplitter, LogBuffer } from './executors/lines';
