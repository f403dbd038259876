/**
 * `ctxlab`: the typed tRPC client for scripts, plus local commands. Every command takes --json
 * for machine-readable output.
 */
import { createClient } from '@ctxlab/api/client';
import { MAX_CORPUS_DOCUMENT_CHARS, qaDocuments } from '@ctxlab/contracts';
import { loadHotpotQAFile, loadSquadFile } from '@ctxlab/ruler/node';
import { splitDocument } from '@ctxlab/niah';
import { TRPCClientError } from '@trpc/client';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadEnv } from './env';
import { importBenchmarkFiles } from './benchmarks';
import { evalsCommand, jobsCommand, startedOrWatched } from './evals';
import { adaptersCommand, serveCommand } from './gpu';
import { datasetsCommand, datasetsUsage } from './datasets';
import { costsCommand, costsUsage, pricesCommand, pricesUsage } from './costs';
import { adaptersCard, hubUsage, modelsCard, modelsImport } from './hub';
import { labRun } from './lab';
import { niahPlan, niahRun, niahUsage } from './niah';
import { plan, planUsage } from './plan';
import { queueCommand, queueUsage, schedulingOf } from './queue';
import { recipesCommand, recipesUsage } from './recipes';
import { table } from './table';
import { quotasCommand, quotasUsage, teamsCommand, teamsUsage } from './teams';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    json: { type: 'boolean', default: false },
    wait: { type: 'boolean', default: false },
    rerun: { type: 'boolean', default: false }, 'request-key': { type: 'string' },
    search: { type: 'string' },
    model: { type: 'string' }, target: { type: 'string' }, rule: { type: 'string' }, alpha: { type: 'string' }, via: { type: 'string' },
    mfu: { type: 'string' }, gpu: { type: 'string' }, 'gpu-mem': { type: 'string' }, tp: { type: 'string' }, util: { type: 'string' },
    'max-model-len': { type: 'string' }, kv: { type: 'string' }, dtype: { type: 'string' }, seq: { type: 'string' }, 'ring-gpus': { type: 'string' }, optimizer: { type: 'string' }, 'trained-tokens': { type: 'string' },
    rank: { type: 'string' }, targets: { type: 'string' }, base: { type: 'string' }, into: { type: 'string' }, tool: { type: 'string' },
    engine: { type: 'string' }, port: { type: 'string' }, executor: { type: 'string' },
    endpoint: { type: 'string' }, out: { type: 'string' }, variant: { type: 'string' }, tokenizer: { type: 'string' }, preset: { type: 'string' },
    lengths: { type: 'string' }, depths: { type: 'string' }, samples: { type: 'string' }, seed: { type: 'string' }, concurrency: { type: 'string' },
    mode: { type: 'string' }, name: { type: 'string' }, 'model-url': { type: 'string' },
    from: { type: 'string' }, version: { type: 'string' }, device: { type: 'string' }, continue: { type: 'boolean' },
    recipe: { type: 'string' }, stage: { type: 'string' }, dataset: { type: 'string' }, output: { type: 'string' }, language: { type: 'string' }, corpus: { type: 'string' }, 'cache-tokens': { type: 'string' }, 'block-size': { type: 'string' },
    suite: { type: 'string' }, tasks: { type: 'string' }, topics: { type: 'string' }, length: { type: 'string' }, question: { type: 'string' }, threshold: { type: 'string' },
    'qa-dataset': { type: 'string' }, 'no-chat-template': { type: 'boolean' }, format: { type: 'string' }, squad: { type: 'string' }, hotpotqa: { type: 'string' },
    limit: { type: 'string', default: '50' },
    after: { type: 'string' },
    items: { type: 'string' }, 'max-length': { type: 'string' }, shots: { type: 'string' }, subjects: { type: 'string' }, scoring: { type: 'string' },
    license: { type: 'string' }, source: { type: 'string' }, sources: { type: 'string' }, 'dry-run': { type: 'boolean' },
    uri: { type: 'string' }, 'seq-length': { type: 'string' }, packing: { type: 'string' }, 'loss-mask': { type: 'boolean' }, 'keep-short': { type: 'string' },
    'long-threshold': { type: 'string' }, 'max-tokens': { type: 'string' }, file: { type: 'string' },
    team: { type: 'string' }, priority: { type: 'string' }, watch: { type: 'boolean' }, reason: { type: 'string' }, off: { type: 'boolean' },
    weight: { type: 'string' }, description: { type: 'string' }, role: { type: 'string' },
    'gpu-hours': { type: 'string' }, 'max-gpus': { type: 'string' }, period: { type: 'string' },
    currency: { type: 'string' }, 'peak-flops': { type: 'string' }, note: { type: 'string' }, to: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const usage = `usage: ctxlab <command> [--json]
  health [--wait]        check the API, the database and (through the queue) a worker
  models list [--search Q]
  recipes list
  ${recipesUsage}
  models lineage <model-id>
  ${hubUsage}
  evals start --endpoint NAME [grid flags as for niah run] [--corpus DATASET] [--mode chat|completion-ids] [--rerun] [--request-key KEY] [--wait]
  evals start --suite ruler --endpoint NAME [--tasks niah_single_1,vt,…] [--lengths 4096,8192] [--samples N] [--tokenizer llama3|byte] [--qa-dataset NAME] [--mode …] [--rerun] [--wait]
  evals start --suite topic --endpoint NAME [--topics 5,10,15] [--length TOKENS] [--question first|kth] [--corpus DATASET] [--samples N] [--wait]
  evals start --suite longbench|infinitebench --endpoint NAME --dataset IMPORTED [--tasks a,b] [--max-length TOKENS] [--items N] [--tokenizer …] [--wait]
  evals start --suite mmlu --endpoint NAME --dataset IMPORTED [--subjects a,b] [--shots 0,5] [--scoring auto|logprobs|generate] [--items N] [--wait]
  evals start --suite perplexity --endpoint NAME [--lengths 1024,2048] [--samples N] [--corpus DATASET] [--tokenizer …] [--wait]   through prompt logprobs
  evals watch EVAL_ID | evals list [--limit N] [--after CURSOR]
  evals export EVAL_ID [--format csv|jsonl] [--output file:///…|s3://…]   the run's cells into the artifact store, with their sha256
  evals check perplexity --model LAB_MODEL [--lengths 256,512,1024,2048] [--samples N] [--rule model|fixed:θ|ntk:TARGET|dynamic-ntk[:α]] [--wait]
  evals check roundtrip --model LAB_MODEL [--samples N] [--wait]   tokenizer and engine round trips on the worker
  dispatch start FILE.json [--team T] [--priority high|normal|low] [--wait]   queue GPU work: {spec, executor, output}
  dispatch stage --recipe NAME --stage N --model URI [--dataset URI] --output URI   the exact training command (dry run); without --dataset, the stage's prepared dataset
  serve start MODEL [--engine vllm|lab] [--gpu TYPE --tp N] [--max-model-len N] [--port P] [--name ENDPOINT] [--executor local|kubernetes] [--team T] [--priority P] [--wait]
  serve stop MODEL|JOB | serve list      stop serving (scale to zero) · what is served
  adapters extract --model FINETUNED --base BASE --rank R --name NAME --output URI [--tool lab|mergekit] [--team T] [--priority P] [--wait]
  adapters merge ADAPTER --into TARGET --name NAME --output URI [--team T] [--priority P] [--wait]   with the adapter's source RoPE fields
  adapters list
      GPU work (dispatch start, serve start, adapters extract|merge, recipes run) takes --team T (the team charged, name or id;
      default: yours when you are in exactly one) and --priority high|normal|low (default normal)
  ${queueUsage}
  ${teamsUsage}
  ${quotasUsage}
  ${pricesUsage}
  ${costsUsage}
  lab run [--model-url URL]   NIAH sweeps of both lab model stages (npm start's main job)
  jobs list | jobs cancel ID | jobs retry ID | jobs events ID
  datasets import DIR [--name NAME] [--language en|zh]   a folder of .txt files as a NIAH haystack
  datasets import PATH --format longbench|infinitebench|mmlu --name NAME [--tasks a,b]   benchmark files as published (.jsonl / MMLU's data/ folder of CSVs)
  datasets import-qa FILE --format squad|hotpotqa --name NAME [--hotpotqa FILE2]   SQuAD (RULER qa_1) / HotpotQA (qa_2) JSON for RULER runs
  ${datasetsUsage}
${planUsage.replace(/^/gm, '  ')}
${niahUsage.replace(/^/gm, '  ')}`;

const env = loadEnv();
const api = createClient(env.CTXLAB_URL, { token: env.CTXLAB_TOKEN });
const out = (data: unknown, text: () => string) => console.log(values.json ? JSON.stringify(data, null, 2) : text());

async function health() {
  const deadline = Date.now() + (values.wait ? 60_000 : 0);
  for (;;) {
    try {
      const h = await api.health.query();
      const w = await api.workerHealth.mutate();
      out({ api: h, worker: w }, () => `api ok (database reachable) · worker ${w.worker} answered through Redis in ${w.redisRoundTripMs.toFixed(2)} ms`);
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function main() {
  const [cmd, sub, arg] = positionals;
  if (values.help || !cmd) {
    console.log(usage);
    return;
  }
  const limit = Number(values.limit);
  if (cmd === 'health') return health();
  if (cmd === 'dispatch' && sub === 'stage') {
    // A dry run: the exact command a recipe stage trains with, before any GPU is asked for.
    const name = values.recipe as string | undefined;
    if (!name || values.stage === undefined || !values.model || !values.output) {
      throw new Error('usage: ctxlab dispatch stage --recipe NAME --stage N (1-based) --model URI [--dataset URI] --output URI');
    }
    const rec = (await api.recipes.list.query({ search: name, limit: 5 })).items.find((r) => r.name === name);
    if (!rec) throw new Error(`no recipe named ${name}`);
    const job = await api.dispatch.renderStage.query({
      recipeId: rec.id, stage: Number(values.stage) - 1, model: values.model as string, ...(values.dataset ? { datasets: [values.dataset as string] } : {}), output: values.output as string,
    });
    const quote = (a: string) => (/^[\w@%+=:,./$()-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
    return out(job, () =>
      [
        `${job.kind} · ${job.tool.name}${job.tool.version ? ` ${job.tool.version}` : ''} · ${job.resources.nodes} node(s) × ${job.resources.gpusPerNode} ${job.resources.gpuType ?? 'GPU'}`,
        ...Object.entries(job.env).map(([k, v]) => `${k}=${quote(v)}`),
        job.argv.map(quote).join(' '),
        ...job.files.map((f) => `file ${f.path} (${f.content.length} bytes)`),
      ].join('\n'),
    );
  }
  if (cmd === 'dispatch' && sub === 'start' && arg) {
    // FILE.json: { "spec": {…dispatch job spec…}, "executor": "local", "output": {…what to register…} }
    // Checked by the API, which names any field that is wrong.
    const body: Parameters<typeof api.gpu.start.mutate>[0] = JSON.parse(readFileSync(arg, 'utf8'));
    const r = await api.gpu.start.mutate({ ...body, ...schedulingOf(values) });
    const res = await startedOrWatched(api, values.wait, r, `${r.created ? 'queued' : 'already queued'}: job ${r.job.id} (${r.job.kind})`);
    return out(res.data, () => res.text);
  }
  if (cmd === 'queue') {
    const r = await queueCommand(api, sub, positionals.slice(2), values);
    return r ? out(r.data, () => r.text) : undefined;
  }
  if (cmd === 'teams' || cmd === 'quotas' || cmd === 'prices' || cmd === 'costs') {
    const command = { teams: teamsCommand, quotas: quotasCommand, prices: pricesCommand, costs: costsCommand }[cmd];
    const r = await command(api, sub, positionals.slice(2), values);
    return out(r.data, () => r.text);
  }
  if (cmd === 'serve') {
    const r = await serveCommand(api, sub, arg, values);
    return out(r.data, () => r.text);
  }
  if (cmd === 'adapters' && sub === 'card' && arg) {
    const r = await adaptersCard(api, arg, values);
    return out(r.data, () => r.text);
  }
  if (cmd === 'adapters') {
    const r = await adaptersCommand(api, sub, arg, values);
    return out(r.data, () => r.text);
  }
  if (cmd === 'lab' && sub === 'run') {
    const url = (values['model-url'] as string | undefined) ?? 'http://127.0.0.1:8765/v1';
    const r = await labRun(api, url, env.CTXLAB_URL);
    return out(r.data, () => r.text);
  }
  if (cmd === 'evals') {
    const r = await evalsCommand(api, sub, arg, values);
    return out(r.data, () => r.text);
  }
  if (cmd === 'jobs') {
    const r = await jobsCommand(api, sub, arg);
    return out(r.data, () => r.text);
  }
  if (cmd === 'datasets' && ['register', 'prepare', 'lineage', 'download'].includes(sub ?? '')) {
    const r = await datasetsCommand(api, sub, arg, values);
    if (!r) throw new Error(`usage:\n  ${datasetsUsage}`);
    return out(r.data, () => r.text);
  }
  if (cmd === 'datasets' && sub === 'import' && arg && values.format !== undefined) {
    const r = await importBenchmarkFiles(api, arg, values);
    return out(r.data, () => r.text);
  }
  if (cmd === 'datasets' && sub === 'import' && arg) {
    // A folder of .txt files becomes a haystack corpus in the registry.
    const files = readdirSync(arg).filter((f) => f.endsWith('.txt')).sort();
    if (files.length === 0) throw new Error(`${arg} has no .txt files`);
    // The API takes documents of at most MAX_CORPUS_DOCUMENT_CHARS: longer files go in parts, split at paragraph breaks.
    const documents = files.flatMap((f) => splitDocument({ name: f, text: readFileSync(join(arg, f), 'utf8') }, MAX_CORPUS_DOCUMENT_CHARS));
    const d = await api.datasets.importCorpus.mutate({
      name: (values.name as string | undefined) ?? basename(arg),
      source: `folder ${basename(arg)} (${files.length} .txt files)`,
      language: (values.language as 'en' | 'zh' | undefined) ?? 'en',
      documents,
    });
    return out(d, () => `imported ${d.name}: ${d.documents} documents, ${d.bytes.toLocaleString('en-US')} bytes, tokens ${Object.entries(d.tokenCounts).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ')}, ${d.digest}`);
  }
  if (cmd === 'datasets' && sub === 'import-qa' && arg) {
    // SQuAD and HotpotQA files for RULER's qa_1 and qa_2: checked here with RULER's own parsers, stored as given.
    const files: { format: 'squad' | 'hotpotqa'; path: string }[] = [];
    const format = values.format as string | undefined;
    if (format !== 'squad' && format !== 'hotpotqa') throw new Error(`--format must be squad or hotpotqa, got ${format ?? 'nothing'}`);
    files.push({ format, path: arg });
    const second = values[format === 'squad' ? 'hotpotqa' : 'squad'] as string | undefined;
    if (second) files.push({ format: format === 'squad' ? 'hotpotqa' : 'squad', path: second });
    const counts = files.map((f) => {
      const qa = f.format === 'squad' ? loadSquadFile(f.path) : loadHotpotQAFile(f.path);
      if (qa.items.length === 0) throw new Error(`${f.path} has no answerable questions`);
      return `${f.format} ${qa.items.length} questions, ${qa.documents.length} documents`;
    });
    const d = await api.datasets.importCorpus.mutate({
      name: (values.name as string | undefined) ?? basename(arg).replace(/\.json$/, ''),
      source: files.map((f) => `${f.format} file ${basename(f.path)}`).join(', '),
      language: 'en',
      description: `QA dataset for RULER: ${counts.join('; ')}`,
      documents: files.flatMap((f) => qaDocuments(f.format, readFileSync(f.path, 'utf8'), MAX_CORPUS_DOCUMENT_CHARS)),
    });
    return out(d, () => `imported ${d.name}: ${counts.join('; ')}, ${d.bytes.toLocaleString('en-US')} bytes, ${d.digest}`);
  }
  if (cmd === 'niah' && (sub === 'run' || sub === 'plan')) {
    const r = sub === 'run' ? await niahRun(values) : await niahPlan(values);
    return out(r.data, () => r.text);
  }
  if (cmd === 'plan') {
    const r = await plan(api, sub, arg, values);
    return out(r.data, () => r.text);
  }
  if (cmd === 'models' && sub === 'list') {
    const page = await api.models.list.query({ limit, search: values.search });
    return out(page, () =>
      table(
        ['name', 'origin', 'context', 'rope θ', 'layers', 'kv heads'],
        page.items.map((m) => [m.name, m.origin, m.maxPositionEmbeddings, m.ropeTheta, m.numLayers, m.numKeyValueHeads]),
      ) + `\n${page.items.length} of ${page.total}`,
    );
  }
  if (cmd === 'models' && sub === 'import' && arg) {
    const r = await modelsImport(api, arg, values);
    return out(r.data, () => r.text);
  }
  if (cmd === 'models' && sub === 'card' && arg) {
    const r = await modelsCard(api, arg, values);
    return out(r.data, () => r.text);
  }
  if (cmd === 'models' && sub === 'lineage' && arg) {
    const g = await api.models.lineage.query({ modelId: arg });
    const name = new Map(g.nodes.map((n) => [n.id, n.name]));
    return out(g, () => table(['parent', 'kind', 'child'], g.edges.map((e) => [name.get(e.parentId), e.kind, name.get(e.childId)])));
  }
  if (cmd === 'recipes' && sub !== 'list') {
    const r = await recipesCommand(api, sub, arg, values);
    if (r) return out(r.data, () => r.text);
  }
  if (cmd === 'recipes' && sub === 'list') {
    const page = await api.recipes.list.query({ limit, search: values.search });
    return out(page, () => table(['name', 'version', 'method', 'stages', 'target'], page.items.map((r) => [r.name, r.version, r.method, r.spec.stages.length, r.spec.targetContext])));
  }
  console.error(usage);
  process.exitCode = 2;
}

main().catch((e: unknown) => {
  let msg = e instanceof TRPCClientError ? `${e.data?.code ?? 'ERROR'}: ${e.message}` : (e as Error).message;
  if (e instanceof TRPCClientError && e.data?.code === 'UNAUTHORIZED' && !env.CTXLAB_TOKEN) msg += ' — set CTXLAB_TOKEN to an API token (portal → Account → API tokens)';
  console.error(`ctxlab: ${msg}`);
  process.exitCode = 1;
});
