import type { ToolId } from '../render/types';

/**
 * What environment a job may run with — the one place that decides it. A job spec may set a
 * variable only when the tool's table below lists it as `settable`, with a value its rule accepts;
 * renderers set the `rendered` ones themselves. Both the spec schema (at parse time) and every
 * executor (on the final RenderedJob, before anything starts) check against these tables, so a
 * renderer that passed a spec's variables through by mistake is still stopped.
 *
 * Why an allow-list: a variable is code for most runtimes — NODE_OPTIONS=--import=data:… runs
 * JavaScript in every node child, LD_PRELOAD loads a library into every process, PYTHONWARNINGS
 * imports a module, vLLM's VLLM_LOGGING_CONFIG_PATH feeds logging.dictConfig (which constructs any
 * class it names). Listing what is harmless is finite; listing what is dangerous never is.
 */

/** A value check: a test and the words that say what it accepts. */
interface ValueRule {
  test: (v: string) => boolean;
  accepts: string;
}

const re = (pattern: RegExp, accepts: string): ValueRule => ({ test: (v) => pattern.test(v), accepts });
const oneOf = (...values: string[]): ValueRule => ({ test: (v) => values.includes(v), accepts: values.map((x) => `"${x}"`).join(', ') });
const int = (min: number, max: number): ValueRule => ({
  test: (v) => /^\d{1,9}$/.test(v) && Number(v) >= min && Number(v) <= max,
  accepts: `an integer from ${min} to ${max}`,
});
const FLAG = oneOf('0', '1');
/** Comma-separated items that each match `item` (NCCL's lists, PyTorch's allocator options). */
const list = (item: RegExp, accepts: string): ValueRule => ({ test: (v) => v.split(',').every((x) => item.test(x)), accepts });

/**
 * Settings every CUDA tool here (vLLM, PyTorch, NCCL, Hugging Face libraries) reads as tuning knobs
 * only. Each value is an enum, a number or a word list: none names a file, a library, a module, a
 * host or a credential.
 *
 * Left out on purpose:
 * - CUDA_VISIBLE_DEVICES and other device selection: which GPUs a job gets is the executor's
 *   (Kubernetes' device plugin sets it; on a local host a spec choosing devices would run on GPUs
 *   ctxlab counts as another job's).
 * - NCCL_NET_PLUGIN, NCCL_TUNER_PLUGIN, NCCL_PROFILER_PLUGIN (each dlopens a library by name) and
 *   NCCL_*_FILE (reads or writes a path on the host).
 * - HF_HOME, HF_HUB_CACHE, HF_ENDPOINT (where weights are read, written, downloaded from) and
 *   HF_TOKEN (a credential in a spec every viewer can read; tokens are the operator's).
 */
const CUDA_TUNING: Record<string, ValueRule> = {
  // PyTorch's caching allocator: only its documented options, each with a number or a boolean.
  PYTORCH_CUDA_ALLOC_CONF: list(
    /^(expandable_segments:(True|False)|max_split_size_mb:\d{1,6}|garbage_collection_threshold:0?\.\d{1,3}|roundup_power2_divisions:\d{1,3}|backend:(native|cudaMallocAsync))$/,
    'comma-separated allocator options (expandable_segments:True, max_split_size_mb:N, garbage_collection_threshold:0.N, roundup_power2_divisions:N, backend:native|cudaMallocAsync)',
  ),
  CUDA_LAUNCH_BLOCKING: FLAG,
  CUDA_DEVICE_MAX_CONNECTIONS: int(1, 32),
  NCCL_DEBUG: oneOf('VERSION', 'WARN', 'INFO', 'TRACE'),
  NCCL_DEBUG_SUBSYS: list(/^\^?[A-Z]{2,10}$/, 'comma-separated subsystem names (INIT,NET,…), optionally ^-negated'),
  NCCL_P2P_DISABLE: FLAG,
  NCCL_P2P_LEVEL: oneOf('LOC', 'NVL', 'PIX', 'PXB', 'PHB', 'SYS'),
  NCCL_IB_DISABLE: FLAG,
  NCCL_SHM_DISABLE: FLAG,
  NCCL_NVLS_ENABLE: FLAG,
  NCCL_CUMEM_ENABLE: FLAG,
  NCCL_ALGO: list(/^\^?(Tree|Ring|CollnetDirect|CollnetChain|NVLS|NVLSTree|PAT)$/, 'comma-separated NCCL algorithms (Tree, Ring, NVLS, …)'),
  NCCL_PROTO: list(/^\^?(LL|LL128|Simple)$/, 'comma-separated NCCL protocols (LL, LL128, Simple)'),
  NCCL_SOCKET_IFNAME: list(/^[\^=]?[A-Za-z][A-Za-z0-9_.-]{0,14}$/, 'comma-separated interface names or prefixes (eth, ^docker, =eth0)'),
  NCCL_IB_HCA: list(/^[\^=]?[A-Za-z][A-Za-z0-9_.-]{0,30}(:\d{1,2})?$/, 'comma-separated HCA names (mlx5_0, ^mlx5_1, mlx5_2:1)'),
  TORCH_NCCL_ASYNC_ERROR_HANDLING: oneOf('0', '1', '2', '3'),
  TORCH_NCCL_BLOCKING_WAIT: FLAG,
  OMP_NUM_THREADS: int(1, 1024),
  MKL_NUM_THREADS: int(1, 1024),
  TOKENIZERS_PARALLELISM: oneOf('true', 'false'),
  HF_HUB_OFFLINE: FLAG,
  TRANSFORMERS_OFFLINE: FLAG,
  HF_DATASETS_OFFLINE: FLAG,
  HF_HUB_DISABLE_TELEMETRY: FLAG,
  HF_HUB_DISABLE_PROGRESS_BARS: FLAG,
  HF_HUB_ENABLE_HF_TRANSFER: FLAG,
  HF_HUB_DOWNLOAD_TIMEOUT: int(1, 3600),
  HF_HUB_ETAG_TIMEOUT: int(1, 3600),
};

/**
 * vLLM's own settings that change how it schedules or logs, named one by one (not VLLM_*): the
 * family also holds VLLM_LOGGING_CONFIG_PATH and VLLM_PLUGINS (code), VLLM_ALLOW_INSECURE_SERIALIZATION
 * (pickle), VLLM_ALLOW_RUNTIME_LORA_UPDATING (any client loads adapters from any path),
 * VLLM_*_DIR/_ROOT/_PATH (host paths), VLLM_API_KEY (a credential), VLLM_HOST_IP/VLLM_PORT (networking
 * is the executor's) and VLLM_USE_MODELSCOPE (another weight source).
 */
const VLLM: Record<string, ValueRule> = {
  ...CUDA_TUNING,
  // The renderer sets it when max-model-len exceeds the config's length; a spec may set it too.
  VLLM_ALLOW_LONG_MAX_MODEL_LEN: FLAG,
  // A backend name vLLM looks up in its own registry (FLASH_ATTN, FLASHINFER, XFORMERS, …): no import path.
  VLLM_ATTENTION_BACKEND: re(/^[A-Z][A-Z0-9_]{1,39}$/, 'an attention backend name in capitals (FLASH_ATTN, FLASHINFER, …)'),
  VLLM_FLASH_ATTN_VERSION: oneOf('2', '3'),
  VLLM_USE_V1: FLAG,
  VLLM_ENABLE_V1_MULTIPROCESSING: FLAG,
  VLLM_WORKER_MULTIPROC_METHOD: oneOf('spawn', 'fork'),
  VLLM_LOGGING_LEVEL: oneOf('DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'),
  VLLM_ENGINE_ITERATION_TIMEOUT_S: int(1, 86_400),
  VLLM_RPC_TIMEOUT: int(1, 86_400_000),
  VLLM_SKIP_P2P_CHECK: FLAG,
  VLLM_NO_USAGE_STATS: FLAG,
  VLLM_DO_NOT_TRACK: FLAG,
  DO_NOT_TRACK: FLAG,
};

// What renderers write from the spec's validated fields (the lab server is configured through them).
const ABS_PATH = re(/^\/[^\u0000-\u001f\u007f]*$/, 'an absolute path');
const NUMBER = re(/^\d+(\.\d+)?(e[+-]?\d+)?$/, 'a number');

/** Per tool: what a spec may set, and what the renderer sets itself (a spec may not override those). */
export const TOOL_ENV: Record<ToolId, { settable: Record<string, ValueRule>; rendered: Record<string, ValueRule> }> = {
  vllm: { settable: VLLM, rendered: {} },
  'lab-server': {
    // onnxruntime's intra-op threads and the prefix cache: the tuning knobs of ctxlab's model server.
    settable: {
      ORT_THREADS: int(1, 64),
      // Automatic prefix caching (the lab server's counterpart of vLLM's --enable-prefix-caching).
      MODEL_SERVER_PREFIX_CACHE_TOKENS: int(0, 100_000_000),
      MODEL_SERVER_PREFIX_CACHE_BLOCK_SIZE: int(1, 1024),
    },
    rendered: {
      MODEL_SERVER_MODEL: ABS_PATH,
      MODEL_SERVER_MODEL_NAME: re(/^[A-Za-z0-9][A-Za-z0-9._/:-]{0,199}$/, 'a served model name'),
      MODEL_SERVER_MAX_MODEL_LEN: int(1, 100_000_000),
      MODEL_SERVER_HOST: re(/^[A-Za-z0-9:.[\]-]{1,253}$/, 'a host name or address'),
      MODEL_SERVER_PORT: int(1024, 65535),
      MODEL_SERVER_THETA: NUMBER,
    },
  },
  'lab-trainer': { settable: {}, rendered: { PYTHONUNBUFFERED: FLAG } },
  'lab-lora': { settable: {}, rendered: { PYTHONUNBUFFERED: FLAG } },
  easycontext: { settable: {}, rendered: {} },
  mergekit: { settable: {}, rendered: {} },
  'longllm-qlora': {
    settable: {},
    rendered: {
      // The one denied name a renderer sets: `-m main.train` imports the checkout's `main` and `src`
      // packages. One absolute directory from RenderOptions (operator configuration, never the spec):
      // no ":" list, no empty entry (an empty entry would put the job directory on the path).
      PYTHONPATH: re(/^\/[A-Za-z0-9._+-]+(\/[A-Za-z0-9._+-]+)*$/, 'one absolute directory'),
      PYTORCH_CUDA_ALLOC_CONF: CUDA_TUNING.PYTORCH_CUDA_ALLOC_CONF!,
    },
  },
};

/**
 * Never settable from a job spec, whatever any table says (a test holds the tables to this): each
 * changes which code runs, which libraries load, or where a tool connects. Matched on the upper-cased
 * name, so npm_config_* is caught as NPM_CONFIG_*.
 */
const DENIED: Record<string, string> = {
  NODE_OPTIONS: 'node reads command-line options from it (--import, --require run code before the program)',
  PATH: 'it decides which program every command name runs; the executor sets it',
  HOME: 'tools read their configuration and credentials under it; the executor sets it',
  PYTHONPATH: 'Python imports modules from it before the tool\'s own',
  PYTHONSTARTUP: 'Python runs the file it names',
  PYTHONHOME: 'it replaces Python\'s standard library',
  PYTHONINSPECT: 'it turns a finished script into an interactive interpreter',
  PYTHONBREAKPOINT: 'Python imports and calls the function it names on breakpoint()',
  PYTHONWARNINGS: 'Python imports the modules its warning filters name',
  PYTHONUSERBASE: 'Python imports user site-packages from it',
  PYTHONEXECUTABLE: 'it changes which interpreter Python reports and re-launches',
  PYTHONPLATLIBDIR: 'it changes where Python finds its compiled modules',
  PYTHONPYCACHEPREFIX: 'Python writes and reads compiled bytecode under it',
  BASH_ENV: 'bash runs the file it names before every script',
  ENV: 'sh runs the file it names',
  SHELLOPTS: 'it sets shell options for every script',
  BASHOPTS: 'it sets shell options for every script',
  PS4: 'bash expands (and runs substitutions in) it while tracing',
  IFS: 'it changes how every shell script splits words',
  CDPATH: 'it changes where cd goes',
  SHELL: 'programs run commands through the shell it names',
  PERL5OPT: 'perl reads command-line options (-M loads modules) from it',
  PERL5LIB: 'perl imports modules from it',
  PERLLIB: 'perl imports modules from it',
  RUBYOPT: 'ruby reads command-line options (-r loads files) from it',
  RUBYLIB: 'ruby loads libraries from it',
  JAVA_TOOL_OPTIONS: 'the JVM reads options (-javaagent loads code) from it',
  _JAVA_OPTIONS: 'the JVM reads options (-javaagent loads code) from it',
  JDK_JAVA_OPTIONS: 'the JVM reads options (-javaagent loads code) from it',
  CLASSPATH: 'the JVM loads classes from it',
  GCONV_PATH: 'glibc loads character-set modules from it',
  LOCPATH: 'glibc loads locale data from it',
  HOSTALIASES: 'it rewrites host names the resolver looks up',
  RES_OPTIONS: 'it changes how host names are resolved',
  LOCALDOMAIN: 'it changes how host names are resolved',
  HTTP_PROXY: 'it sends downloads (weights, datasets) through another host',
  HTTPS_PROXY: 'it sends downloads (weights, datasets) through another host',
  ALL_PROXY: 'it sends downloads (weights, datasets) through another host',
  NO_PROXY: 'it changes which hosts bypass the configured proxy',
  SSL_CERT_FILE: 'it replaces the certificates TLS connections trust',
  SSL_CERT_DIR: 'it replaces the certificates TLS connections trust',
  REQUESTS_CA_BUNDLE: 'it replaces the certificates TLS connections trust',
  CURL_CA_BUNDLE: 'it replaces the certificates TLS connections trust',
  TMPDIR: 'tools write temporary files (and sometimes code) where it says',
};
const DENIED_PREFIXES: [string, string][] = [
  ['LD_', 'the dynamic loader preloads, audits or finds libraries through LD_* variables'],
  ['DYLD_', 'the dynamic loader preloads or finds libraries through DYLD_* variables'],
  ['NODE_', 'node reads options, module paths and TLS settings from NODE_* variables'],
  ['NPM_CONFIG', 'npm reads its configuration (node-options, scripts, registry) from npm_config_* variables'],
  ['BASH_FUNC_', 'bash imports function definitions from BASH_FUNC_* variables'],
  ['GIT_', 'git runs commands named in GIT_* variables (GIT_SSH_COMMAND, GIT_EXEC_PATH)'],
  ['CTXLAB_', 'CTXLAB_* variables are ctxlab\'s own (machine rank, rank 0\'s address, worker settings)'],
];

/** Why a variable may never be set from a spec, or null. */
export function deniedBecause(name: string): string | null {
  const upper = name.toUpperCase();
  if (Object.hasOwn(DENIED, upper)) return DENIED[upper]!;
  for (const [prefix, why] of DENIED_PREFIXES) if (upper.startsWith(prefix)) return why;
  return null;
}

const NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;
const MAX_VALUE = 1024;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** One refused variable: its name and why, in words that say what to do. */
export interface EnvIssue {
  name: string;
  message: string;
}

const described: Record<ToolId, string> = {
  vllm: 'vLLM',
  'lab-server': 'the lab model server',
  'lab-trainer': 'the lab trainer',
  'lab-lora': 'the lab LoRA tool',
  easycontext: 'EasyContext',
  mergekit: 'mergekit',
  'longllm-qlora': 'longllm_qlora',
};

function valueIssue(name: string, value: string, rule: ValueRule): string | null {
  if (value.length > MAX_VALUE) return `${name}: values are at most ${MAX_VALUE} characters`;
  if (CONTROL.test(value)) return `${name}: control characters (newline, NUL, …) are not allowed in values`;
  if (!rule.test(value)) return `${name}: "${value}" is not allowed; it must be ${rule.accepts}`;
  return null;
}

/**
 * What a job spec asks to set, for the tool that will run it. Returns every refused variable
 * (empty when all are allowed). Renderer-set variables are refused here too: the spec's own fields
 * say what they mean.
 */
export function specEnvIssues(tool: ToolId, env: Record<string, string>): EnvIssue[] {
  const { settable, rendered } = TOOL_ENV[tool];
  const issues: EnvIssue[] = [];
  for (const [name, value] of Object.entries(env)) {
    const denied = deniedBecause(name);
    if (denied) {
      issues.push({ name, message: `${name} can never be set by a job spec: ${denied}` });
    } else if (Object.hasOwn(rendered, name)) {
      issues.push({ name, message: `${name} is set by ctxlab from the spec's own fields; set those instead` });
    } else if (!NAME.test(name) || !Object.hasOwn(settable, name)) {
      const allowed = Object.keys(settable);
      issues.push({ name, message: `${name} is not a variable ${described[tool]} jobs may set${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ' (they take none)'}` });
    } else {
      const bad = valueIssue(name, value, settable[name]!);
      if (bad) issues.push({ name, message: bad });
    }
  }
  return issues;
}

/**
 * The final environment of a rendered job: the spec's settable variables plus what its renderer
 * sets, each with an accepted value. A denied name passes only where the tool's renderer sets it
 * (longllm_qlora's PYTHONPATH), with the value that rule allows.
 */
export function renderedEnvIssues(tool: ToolId, env: Record<string, string>): EnvIssue[] {
  const policy = TOOL_ENV[tool];
  const issues: EnvIssue[] = [];
  for (const [name, value] of Object.entries(env)) {
    const rule = Object.hasOwn(policy.rendered, name) ? policy.rendered[name] : Object.hasOwn(policy.settable, name) && !deniedBecause(name) ? policy.settable[name] : undefined;
    if (!rule) {
      const denied = deniedBecause(name);
      issues.push({ name, message: denied ? `${name} can never be passed to ${described[tool]}: ${denied}` : `${name} is not a variable ${described[tool]} runs with` });
      continue;
    }
    const bad = valueIssue(name, value, rule);
    if (bad) issues.push({ name, message: bad });
  }
  return issues;
}
