import { describe, expect, it } from 'vitest';
import { parseModelCard, validateModelCard } from './parse';
import { renderAdapterCard, renderModelCard } from './render';
import { BAAI_ADAPTER, GRADIENT_CARD, ZHINAO_CARD } from './testing';

/** The lines of a Markdown table under a heading, header row first. */
function tableAfter(body: string, heading: string): string[] {
  const start = body.indexOf(heading);
  expect(start, `heading ${heading}`).toBeGreaterThanOrEqual(0);
  const lines = body.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rest = lines.slice(first);
  const end = rest.findIndex((l) => !l.startsWith('|'));
  return end === -1 ? rest : rest.slice(0, end);
}

const cellsOf = (row: string) =>
  row
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());

describe('renderModelCard: a Gradient-like 1048K model', () => {
  const { readme, files } = renderModelCard(GRADIENT_CARD);
  const { data, body } = parseModelCard(readme);

  it('passes validation with no issue at all', () => {
    expect(validateModelCard(readme)).toEqual([]);
  });

  it('writes the Hub metadata', () => {
    expect(data).toMatchObject({
      language: ['en'],
      license: 'llama3',
      library_name: 'transformers',
      pipeline_tag: 'text-generation',
      base_model: 'meta-llama/Meta-Llama-3-70B-Instruct',
      base_model_relation: 'finetune',
      tags: ['long-context', 'rope-scaling'],
      // Only the Hub dataset: the S3 mix has no Hub id to link.
      datasets: ['cerebras/SlimPajama-627B'],
    });
    // license_name / license_link belong to `other` only.
    expect(data).not.toHaveProperty('license_name');
    expect(readme.startsWith('---\nlanguage:\n  - en\nlicense: llama3\n')).toBe(true);
  });

  it('writes model-index in the card specification schema', () => {
    const mi = data?.['model-index'] as unknown[];
    expect(mi).toHaveLength(1);
    expect(mi[0]).toEqual({
      name: 'gradientai/Llama-3-70B-Instruct-Gradient-1048k',
      results: [
        {
          task: { type: 'text-generation', name: 'Needle in a Haystack' },
          dataset: { type: 'niah', name: 'Needle in a Haystack (synthetic)', args: { context_length: 1_048_576 } },
          metrics: [{ type: 'niah_score', value: 98.5, name: 'NIAH average, 65K–1048K', verified: false }],
        },
        {
          task: { type: 'text-generation', name: 'RULER' },
          dataset: { type: 'ruler', name: 'RULER (synthetic)', args: { context_length: 131_072 } },
          metrics: [{ type: 'ruler_score', value: 83.12, name: 'RULER average at 128K', verified: false }],
        },
        {
          task: { type: 'text-generation', name: 'RULER' },
          dataset: { type: 'ruler', name: 'RULER (synthetic)', config: 'niah_multikey_1', args: { context_length: 131_072 } },
          metrics: [{ type: 'ruler_score', value: 91.4, name: 'RULER niah_multikey_1 at 128K', verified: false }],
        },
        {
          task: { type: 'text-generation', name: 'MMLU' },
          dataset: { type: 'cais/mmlu', name: 'MMLU', config: 'all', split: 'test', args: { num_few_shot: 5 } },
          metrics: [{ type: 'accuracy', value: 76.4, name: 'MMLU 5-shot', verified: false }],
          source: { name: 'ctxlab eval run run_mmlu_01', url: 'https://ctxlab.example/evals/run_mmlu_01' },
        },
      ],
    });
  });

  it('opens with the title and a summary of context, RoPE base and parent', () => {
    const [title, , summary] = body.split('\n');
    expect(title).toBe('# Llama-3 70B Instruct Gradient 1048K');
    expect(summary).toContain('**Context:** 1,048,576 (1048K) tokens');
    expect(summary).toContain('**RoPE θ:** 3,580,165,449');
    expect(summary).toContain('[meta-llama/Meta-Llama-3-70B-Instruct](https://huggingface.co/meta-llama/Meta-Llama-3-70B-Instruct)');
  });

  it('has the sections in order, and no Serving section without serving facts', () => {
    const headings = body.split('\n').filter((l) => l.startsWith('## '));
    expect(headings).toEqual(['## Model details', '## Lineage', '## Training', '## Evaluation', '## Limitations']);
  });

  it('describes the architecture, computing the parameter count it was not given', () => {
    const rows = tableAfter(body, '## Model details').map(cellsOf);
    const get = (k: string) => rows.find((r) => r[0] === k)?.[1];
    expect(get('Layers')).toBe('80');
    expect(get('Key/value heads')).toBe('8 (grouped-query, 8 query heads each)');
    expect(get('Max position embeddings')).toBe('1,048,576 (1048K)');
    expect(get('Parameters')).toBe('70.55B (70,553,706,496), computed from the configuration');
    expect(get('Created')).toBe('2024-05-06');
  });

  it("prints the recipe's four stages with their lengths and thetas as given", () => {
    expect(body).toContain('### Recipe `gradient-70b-1048k`, version 2');
    const rows = tableAfter(body, '### Recipe').map(cellsOf);
    expect(rows[0]).toEqual(['#', 'Stage', 'Initialized from', 'Sequence length', 'RoPE θ', 'Steps', 'Batch (tokens/step)', 'Total tokens', 'Learning rate', 'GPUs', 'Wall time', 'Result']);
    const stages = rows.slice(2);
    expect(stages.map((r) => r[1])).toEqual(['65K', '262K', '524K', '1048K']);
    expect(stages.map((r) => r[2])).toEqual(['meta-llama/Meta-Llama-3-70B-Instruct', '65K', '262K', '524K']);
    expect(stages.map((r) => r[3])).toEqual(['65,536 (65K)', '262,144 (262K)', '524,288 (524K)', '1,048,576 (1048K)']);
    expect(stages.map((r) => r[4])).toEqual(['15,296,098', '207,112,184', '1,062,356,830', '3,580,165,449']);
    expect(stages.map((r) => r[8])).toEqual(['2e-5', '2e-5', '2e-5', '2e-5']);
    expect(stages[0]![9]).toBe('512 × L40S');
    expect(stages[0]![11]).toBe('NIAH: 100%');
    expect(stages[1]![11]).toBe('—');
    expect(body).toContain('65K → 262K → 524K → 1048K tokens, θ 15,296,098 → 3,580,165,449');
  });

  it('lists the training data with its locations and token counts', () => {
    const rows = tableAfter(body, '### Data').map(cellsOf);
    expect(rows[2]).toEqual(['SlimPajama long documents', '[cerebras/SlimPajama-627B](https://huggingface.co/datasets/cerebras/SlimPajama-627B)', '—', '390,000,000', '—']);
    expect(rows[3]![2]).toBe('`s3://ctxlab-data/ultrachat-long.jsonl`');
    expect(body).toContain('In all 427,819,008 tokens.');
  });

  it('groups evaluation results by suite', () => {
    expect(body.indexOf('### Needle in a Haystack')).toBeLessThan(body.indexOf('### RULER'));
    const ruler = tableAfter(body, '### RULER').map(cellsOf);
    expect(ruler.slice(2).map((r) => r[0])).toEqual(['RULER average at 128K', 'RULER niah_multikey_1 at 128K']);
    const mmlu = tableAfter(body, '### MMLU').map(cellsOf);
    expect(mmlu[0]).toEqual(['Measure', 'Metric', 'Value', 'Shots', 'Dataset', 'Evaluated', 'Eval run']);
    expect(mmlu[2]).toEqual(['MMLU 5-shot', '`accuracy`', '76.4%', '5', '[MMLU](https://huggingface.co/datasets/cais/mmlu), `all`, test', '2024-05-11', '[run_mmlu_01](https://ctxlab.example/evals/run_mmlu_01)']);
  });

  it('writes the NIAH heatmap as an SVG file beside the card and links it', () => {
    expect(files).toHaveLength(1);
    const f = files[0]!;
    expect(f.name).toBe('niah-65k-1048k.svg');
    expect(f.mediaType).toBe('image/svg+xml');
    expect(f.content.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(f.content).toContain('NIAH 65K–1048K');
    // The unscored cell is drawn as missing, not as a zero.
    expect(f.content).toContain('data-missing="true"');
    expect(body).toContain('![NIAH 65K–1048K](niah-65k-1048k.svg)');
    expect(body).toContain('4 lengths (65K–1048K), 5 depths, 38 scored samples, 2 failed');
  });

  it('shows the scorecard against the parent with verdicts and flags', () => {
    const rows = tableAfter(body, '### Compared with').map(cellsOf);
    expect(rows[0]).toEqual(['Measure', 'This model', 'llama-3-70b-instruct', 'Difference', 'Interval', 'Verdict', 'Flag']);
    expect(rows[2]).toEqual(['MMLU accuracy, 5-shot', '76.4', '80.1', '-3.7', '[-4.6, -2.8]', 'worse', '⚠ short-context regression: 3.70 points below the comparison model (threshold 2)']);
    expect(rows[3]!.slice(0, 6)).toEqual(['RULER average over tasks', '83.12', '41.5', '+41.62', '[+39.9, +43.3]', 'better']);
    expect(body).toContain(': 1 better, 1 worse.');
  });

  it("states the scorecard's regression as a limitation", () => {
    const lim = body.slice(body.indexOf('## Limitations'));
    expect(lim).toContain('- **MMLU accuracy, 5-shot**: short-context regression: 3.70 points below the comparison model (threshold 2). This model scores 76.4 against 80.1 for `llama-3-70b-instruct`.');
  });

  it('lists the extracted adapter under Lineage', () => {
    const rows = tableAfter(body, '**LoRA adapters**').map(cellsOf);
    expect(rows[2]).toEqual(['`gradient-1048k-lora-r64`', 'extracted from this model', '`meta-llama/Meta-Llama-3-70B-Instruct`', '64', '128', '`q_proj`, `k_proj`, `v_proj`, `o_proj`', '—']);
  });

  it('is the same card every time (no clocks, no locale)', () => {
    expect(renderModelCard(GRADIENT_CARD)).toEqual({ readme, files });
  });
});

describe('renderModelCard: a 360Zhinao-like model with its vLLM launch', () => {
  const { readme, files } = renderModelCard(ZHINAO_CARD);
  const { data, body } = parseModelCard(readme);
  const serving = body.slice(body.indexOf('## Serving'));

  it('validates, with license other and its name and link', () => {
    expect(validateModelCard(readme)).toEqual([]);
    expect(data).toMatchObject({ license: 'other', license_name: 'llama3', license_link: 'https://llama.meta.com/llama3/license/', language: ['en', 'zh'] });
    expect(files).toEqual([]);
  });

  it('prints the serving settings as given', () => {
    const rows = tableAfter(serving, '## Serving').map(cellsOf);
    const get = (k: string) => rows.find((r) => r[0] === k)?.[1];
    expect(get('Max model length (`--max-model-len`)')).toBe('365,000 (365K)');
    expect(get('Tensor parallel size')).toBe('8');
    expect(get('GPUs')).toBe('8 × A800-80G');
    expect(get('GPU memory utilisation')).toBe('0.6');
    expect(get('Chunked prefill')).toBe('no');
  });

  it('builds the vLLM command from the settings, one flag a line', () => {
    const cmd = /```bash\n([\s\S]*?)\n```/.exec(serving)?.[1];
    expect(cmd).toBe(
      [
        'PYTORCH_CUDA_ALLOC_CONF=max_split_size_mb:256 VLLM_ALLOW_LONG_MAX_MODEL_LEN=1 vllm serve qihoo360/Llama3-8B-Instruct-360K',
        '  --tensor-parallel-size 8',
        '  --max-model-len 365000',
        '  --gpu-memory-utilization 0.6',
        '  --max-num-batched-tokens 365000',
        '  --max-num-seqs 32',
        '  --enforce-eager',
        '  --trust-remote-code',
      ].join(' \\\n'),
    );
  });

  it('notes the KV cache size and the length beyond the config', () => {
    // 32 layers × 8 KV heads × 128 × 2 (K, V) × 2 bytes = 128 KiB a token; × 365,000 = 44.56 GiB.
    expect(serving).toContain('The KV cache takes 128 KiB per token in bf16');
    expect(serving).toContain('one 365K-token sequence needs 44.56 GiB of KV cache across the 8 GPUs');
    expect(serving).toContain('exceeds the config\'s max_position_embeddings 8,192');
    expect(serving).toContain('- Chunked prefill is left off');
  });

  it('prints a command given as argv exactly, quoting what the shell needs', () => {
    const argv = ['vllm', 'serve', '/models/360k', '--max-model-len', '360000', '--tensor-parallel-size', '8', '--hf-overrides', '{"rope_theta": 500000000}'];
    const out = renderModelCard({ ...ZHINAO_CARD, serving: { command: argv, maxModelLen: 360_000, tensorParallelSize: 8 } }).readme;
    expect(out).toContain("vllm serve /models/360k \\\n  --max-model-len 360000 \\\n  --tensor-parallel-size 8 \\\n  --hf-overrides '{\"rope_theta\": 500000000}'\n```");
    // A given command is the caller's: nothing is added to it.
    expect(out).not.toContain('VLLM_ALLOW_LONG_MAX_MODEL_LEN=1 vllm');
    const line = renderModelCard({ ...ZHINAO_CARD, serving: { command: 'vllm serve x --max-model-len 360000 -tp 8' } }).readme;
    expect(line).toContain('```bash\nvllm serve x --max-model-len 360000 -tp 8\n```');
  });

  it('says nothing about limitations it does not know', () => {
    expect(body).not.toContain('## Limitations');
    expect(body).not.toContain('## Evaluation');
    expect(body).not.toContain('## Training');
  });
});

describe('renderAdapterCard', () => {
  const { readme, files } = renderAdapterCard(BAAI_ADAPTER);
  const { data, body } = parseModelCard(readme);

  it('validates and carries PEFT metadata', () => {
    expect(validateModelCard(readme)).toEqual([]);
    expect(data).toMatchObject({
      license: 'llama3',
      library_name: 'peft',
      pipeline_tag: 'text-generation',
      base_model: 'meta-llama/Meta-Llama-3-8B-Instruct',
      base_model_relation: 'adapter',
      tags: ['lora', 'peft'],
      datasets: ['Yukang/LongAlpaca-12k'],
    });
    expect(files).toEqual([]);
  });

  it('describes rank, alpha and targets', () => {
    const rows = tableAfter(body, '## Adapter details').map(cellsOf);
    const get = (k: string) => rows.find((r) => r[0] === k)?.[1];
    expect(get('Rank (`r`)')).toBe('32');
    expect(get('Alpha (`lora_alpha`)')).toBe('16');
    expect(get('Scaling (alpha / rank)')).toBe('0.5');
    expect(get('Target modules')).toBe('`q_proj`, `k_proj`, `v_proj`, `o_proj`');
    expect(get('Base RoPE θ required')).toBe('200,000,000');
  });

  it('shows how to load it with PEFT, on a base with the right RoPE base', () => {
    expect(body).toContain('config.rope_theta = 200000000\nconfig.max_position_embeddings = 81920\n');
    expect(body).toContain('model = PeftModel.from_pretrained(base, "namespace-Pt/Llama-3-8B-Instruct-80K-QLoRA")');
  });

  it('shows how to serve it with vLLM', () => {
    expect(body).toContain(
      [
        'vllm serve meta-llama/Meta-Llama-3-8B-Instruct',
        '  --enable-lora',
        '  --lora-modules llama-3-8b-instruct-80k-qlora=namespace-Pt/Llama-3-8B-Instruct-80K-QLoRA',
        '  --max-lora-rank 32',
        '  --max-model-len 81920',
        `  --hf-overrides '{"rope_theta":200000000,"max_position_embeddings":81920}'`,
      ].join(' \\\n'),
    );
    // embed_tokens is trained in full: vLLM cannot load it as part of a LoRA.
    expect(body).toContain("vLLM's LoRA support does not load `modules_to_save` (`embed_tokens`)");
  });

  it('rounds the LoRA rank up to one vLLM accepts', () => {
    const out = renderAdapterCard({ ...BAAI_ADAPTER, rank: 48, baseOverrides: undefined, modulesToSave: undefined }).readme;
    expect(out).toContain('--max-lora-rank 64');
    expect(out).toContain('rank 48 is served under 64');
    expect(out).not.toContain('config.rope_theta');
  });

  it('names an adapter extracted from a ctxlab model by that lineage', () => {
    const out = renderAdapterCard({ ...BAAI_ADAPTER, extractedFrom: { name: 'llama-3-8b-262k', note: 'truncated SVD of the weight difference' } }).readme;
    expect(validateModelCard(out)).toEqual([]);
    expect(out).toContain('**Extracted from:** `llama-3-8b-262k`');
    expect(out).toContain('Extracted from `llama-3-8b-262k` as the low-rank difference');
  });
});

describe('base_model for lineage', () => {
  it('lists several parents as a merge, using Hub ancestors for ctxlab-only parents', () => {
    const { readme } = renderModelCard({
      ...ZHINAO_CARD,
      parents: [
        { name: 'llama-3-8b-instruct', hfName: 'meta-llama/Meta-Llama-3-8B-Instruct', relation: 'lora-merge' },
        { name: 'lab 8b 262k', hubAncestor: 'gradientai/Llama-3-8B-Instruct-262k', relation: 'lora-merge' },
      ],
    });
    expect(validateModelCard(readme)).toEqual([]);
    expect(parseModelCard(readme).data).toMatchObject({ base_model: ['meta-llama/Meta-Llama-3-8B-Instruct', 'gradientai/Llama-3-8B-Instruct-262k'], base_model_relation: 'merge' });
  });

  it('writes a quantisation as quantized and a root model without base_model', () => {
    const q = renderModelCard({ ...ZHINAO_CARD, parents: [{ name: 'llama3-8b-instruct-360k', hfName: 'qihoo360/Llama3-8B-Instruct-360K', relation: 'quantize' }] }).readme;
    expect(parseModelCard(q).data).toMatchObject({ base_model: 'qihoo360/Llama3-8B-Instruct-360K', base_model_relation: 'quantized' });
    const root = parseModelCard(renderModelCard({ ...ZHINAO_CARD, parents: [] }).readme).data;
    expect(root).not.toHaveProperty('base_model');
    expect(root).not.toHaveProperty('base_model_relation');
  });
});

describe('heatmaps and coverage', () => {
  it('gives heatmaps with the same title distinct files', () => {
    const h = GRADIENT_CARD.heatmaps![0]!;
    const { readme, files } = renderModelCard({ ...GRADIENT_CARD, heatmaps: [h, h, { ...h, slug: 'Baseline run' }] });
    expect(files.map((f) => f.name)).toEqual(['niah-65k-1048k.svg', 'niah-65k-1048k-2.svg', 'niah-baseline-run.svg']);
    for (const f of files) expect(readme).toContain(`](${f.name})`);
  });

  it('states a limitation when the evaluations stop short of the context length', () => {
    const { readme } = renderModelCard({ ...GRADIENT_CARD, heatmaps: [], scorecard: undefined, evaluations: GRADIENT_CARD.evaluations!.filter((e) => e.suite !== 'niah') });
    expect(readme).toContain('## Limitations\n\n- Evaluated up to 131,072 (131K) tokens only; behaviour between that and the configured 1,048,576 (1048K) is unmeasured.');
  });
});

describe('YAML quoting', () => {
  it('quotes strings that PyYAML would read as something else', () => {
    const { readme } = renderModelCard({ ...ZHINAO_CARD, tags: ['yes', 'on', '2024-05-01', 'a: b', '#x'] });
    expect(readme).toContain('tags:\n  - "yes"\n  - "on"\n  - "2024-05-01"\n  - "a: b"\n  - "#x"\n');
    expect(validateModelCard(readme)).toEqual([]);
    expect(parseModelCard(readme).data?.tags).toEqual(['yes', 'on', '2024-05-01', 'a: b', '#x']);
  });
});
