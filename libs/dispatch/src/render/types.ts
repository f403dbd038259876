import type { JobKind } from '../specs';
import type { UriResolver } from '../uri';

/** The tool a rendered job runs: what the environment policy (policy/env.ts) is keyed by. */
export type ToolId = 'easycontext' | 'longllm-qlora' | 'mergekit' | 'vllm' | 'lab-trainer' | 'lab-lora' | 'lab-server';

/** A file the command reads, written into the job's working directory before it starts. */
export interface RenderedFile {
  /** Relative POSIX path inside the working directory. */
  path: string;
  content: string;
}

/** Where and on what a rendered job runs. */
export interface JobResources {
  /** GPUs in total (0 for a CPU-only job). */
  gpus: number;
  /** The GPU type the spec asked for, as written there; null when any GPU will do. */
  gpuType: string | null;
  /** Machines the job spans; > 1 needs the kubernetes executor. */
  nodes: number;
  gpusPerNode: number;
}

/**
 * A job as an executor runs it: one argv, run in a working directory holding `files`, with `env`
 * added to the executor's base environment. Pure data: rendering never touches the disk.
 */
export interface RenderedJob {
  kind: JobKind;
  argv: string[];
  env: Record<string, string>;
  files: RenderedFile[];
  /** The commands argv runs, in order: [argv] for one-step jobs; lora-merge wraps its two steps in `sh -c`. */
  steps: string[][];
  resources: JobResources;
  /** Artifact URIs the job writes. */
  outputs: string[];
  /** URIs the job writes besides its outputs (lora-merge's cache): held to the same writable roots, never registered. */
  scratch?: string[];
  /**
   * Object-store artifacts the executor moves for the job (set by whoever resolved s3:// URIs to
   * local paths): inputs downloaded to `path` before the command runs, outputs uploaded from `path`
   * after it succeeds.
   */
  staging?: JobStaging;
  /** For serve jobs: the port the server listens on and the path that answers 200 when it is ready. */
  service?: { port: number; healthPath: string; servedName: string };
  /** The external tool and release the command line targets. */
  tool: { id: ToolId; name: string; version?: string };
}

/** Install locations and conventions of the job image; defaults match ctxlab's images. */
export interface RenderOptions {
  /** Maps artifact URIs to what the tool's command line takes (default: file → path, hf → repo id). */
  resolveUri?: UriResolver;
  /** Checkout of EasyContext (train.py and its easy_context package). Default /opt/EasyContext. */
  easyContextDir?: string;
  /** Checkout of BAAI's Long_LLM/longllm_qlora (the `main` and `src` packages). Default /opt/longllm_qlora. */
  longllmQloraDir?: string;
  /** Python interpreter for helper scripts. Default python3. */
  python?: string;
  /** Rendezvous port of rank 0 in multi-machine jobs. Default 29500. */
  masterPort?: number;
  /** Directory of the lab model's scripts (train.py, lora.py). Default /opt/ctxlab/lab-model. */
  labModelDir?: string;
  /** Command that starts the lab model server (configured through MODEL_SERVER_* variables). Default ctxlab-model-server. */
  labServer?: string[];
}

/**
 * Multi-machine jobs refer to their machine rank and rank 0's address with Kubernetes' `$(VAR)`
 * syntax, which the kubelet expands in a container's args; the kubernetes executor defines both.
 */
export const NODE_RANK_ENV = 'CTXLAB_NODE_RANK';
export const MASTER_ADDR_ENV = 'CTXLAB_MASTER_ADDR';
export const NODE_RANK_REF = `$(${NODE_RANK_ENV})`;
export const MASTER_ADDR_REF = `$(${MASTER_ADDR_ENV})`;

/** s3:// artifacts and the paths the job's command reads or writes them at. */
export interface JobStaging {
  inputs: { uri: string; path: string }[];
  outputs: { uri: string; path: string }[];
}
