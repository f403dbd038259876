import { describe, expect, it } from 'vitest';
import { cardMetadata, ModelCardError, parseModelCard, validateModelCard, type CardMetadata } from './parse';
import { renderAdapterCard, renderModelCard } from './render';
import { BAAI_ADAPTER, GRADIENT_CARD, ZHINAO_CARD } from './testing';

const card = (yaml: string, body = '# A model\n') => `---\n${yaml}---\n\n${body}`;
const errors = (text: string) => validateModelCard(text).filter((i) => i.severity === 'error');
const paths = (text: string) => errors(text).map((i) => i.path);

const GOOD_INDEX = `model-index:
  - name: org/model
    results:
      - task:
          type: text-generation
        dataset:
          type: cais/mmlu
          name: MMLU
        metrics:
          - type: accuracy
            value: 76.4
`;

describe('parseModelCard', () => {
  it('splits the front matter from the body', () => {
    expect(parseModelCard('---\nlicense: mit\ntags: [a, b]\n---\n\n# Title\n\ntext\n')).toEqual({ data: { license: 'mit', tags: ['a', 'b'] }, body: '# Title\n\ntext\n' });
  });

  it('reads CRLF cards and a byte-order mark', () => {
    expect(parseModelCard('\uFEFF---\r\nlicense: mit\r\n---\r\n# T\r\n')).toEqual({ data: { license: 'mit' }, body: '# T\r\n' });
  });

  it('gives null data for a card without front matter', () => {
    expect(parseModelCard('# Just markdown\n---\n')).toEqual({ data: null, body: '# Just markdown\n---\n' });
  });

  it('keeps a horizontal rule in the body', () => {
    expect(parseModelCard('---\nlicense: mit\n---\na\n\n---\n\nb\n').body).toBe('a\n\n---\n\nb\n');
  });

  it('refuses unclosed, invalid or non-mapping front matter', () => {
    expect(() => parseModelCard('---\nlicense: mit\n# no end\n')).toThrow(/never closed/);
    expect(() => parseModelCard('---\nlicense: [mit\n---\n')).toThrow(ModelCardError);
    expect(() => parseModelCard('---\n- a\n- b\n---\n')).toThrow(/must be a YAML mapping/);
  });
});

describe('validateModelCard', () => {
  it('accepts a minimal valid card', () => {
    expect(validateModelCard(card(`license: mit\nbase_model: org/base\ntags:\n  - x\n${GOOD_INDEX}`))).toEqual([]);
  });

  it('reports a missing front matter', () => {
    expect(validateModelCard('# A model\n\nNo metadata.\n')).toEqual([
      { path: 'front matter', message: expect.stringContaining('must open with a "---" line') as string, severity: 'error' },
    ]);
    expect(validateModelCard('---\nlicense: mit\n')).toEqual([{ path: 'front matter', message: expect.stringContaining('never closed') as string, severity: 'error' }]);
    expect(paths('---\nfoo: [\n---\n')).toEqual(['front matter']);
    expect(validateModelCard('---\njust a string\n---\n')[0]?.message).toMatch(/must be a YAML mapping/);
  });

  it('reports a model-index metric without a value at its exact path', () => {
    const yaml = GOOD_INDEX.replace('            value: 76.4\n', '            name: MMLU 5-shot\n');
    expect(errors(card(yaml))).toEqual([{ path: 'model-index[0].results[0].metrics[0].value', message: "is required: the metric's numeric value", severity: 'error' }]);
  });

  it('reports a metric value that is not a number', () => {
    expect(errors(card(GOOD_INDEX.replace('value: 76.4', 'value: "76.4%"')))).toEqual([
      { path: 'model-index[0].results[0].metrics[0].value', message: 'must be a number, not the string "76.4%"', severity: 'error' },
    ]);
  });

  it('reports the rest of the model-index schema by path', () => {
    const yaml = `model-index:
  - name: org/model
    results:
      - task: {}
        dataset:
          type: cais/mmlu
        metrics: []
      - dataset: { type: x, name: ds }
        metrics:
          - value: 1
        source: { name: here }
`;
    expect(paths(card(yaml)).sort()).toEqual(
      [
        'model-index[0].results[0].task.type',
        'model-index[0].results[0].dataset.name',
        'model-index[0].results[0].metrics',
        'model-index[0].results[1].task',
        'model-index[0].results[1].metrics[0].type',
        'model-index[0].results[1].source.url',
      ].sort(),
    );
    expect(paths(card('model-index:\n  name: org/model\n'))).toEqual(['model-index']);
  });

  it('reports a base_model that is not a string', () => {
    expect(errors(card('base_model: 42\n'))).toEqual([{ path: 'base_model', message: 'must be a repo id string or a list of them, not a number', severity: 'error' }]);
    expect(errors(card('base_model:\n  name: org/base\n'))).toEqual([{ path: 'base_model', message: 'must be a repo id string or a list of them, not a mapping', severity: 'error' }]);
    expect(errors(card('base_model:\n  - org/base\n  - 7\n'))).toEqual([{ path: 'base_model[1]', message: 'must be a repo id string, not a number', severity: 'error' }]);
    expect(paths(card('base_model: https://huggingface.co/org/base\n'))).toEqual(['base_model']);
    expect(paths(card('base_model: []\n'))).toEqual(['base_model']);
    // A ctxlab registry name is accepted as well as a Hub repo id.
    expect(errors(card('base_model:\n  - org/base\n  - lab 8b 262k\n'))).toEqual([]);
  });

  it('reports license, tags, datasets and language of the wrong type', () => {
    expect(paths(card('license: 3\n'))).toEqual(['license']);
    expect(paths(card('tags: long-context\n'))).toEqual(['tags']);
    expect(paths(card('tags:\n  - a\n  - 2\n'))).toEqual(['tags[1]']);
    expect(paths(card('datasets:\n  - org/data\n  - { name: x }\n'))).toEqual(['datasets[1]']);
    expect(paths(card('language: 3\n'))).toEqual(['language']);
    // YAML 1.1, as huggingface_hub reads it: a bare `no` (Norwegian) is a boolean there.
    expect(paths(card('language:\n  - en\n  - no\n'))).toEqual(['language']);
    expect(paths(card('base_model_relation: adaptor\nbase_model: org/x\n'))).toEqual(['base_model_relation']);
    // A single language string is what the Hub accepts too.
    expect(errors(card('language: en\n'))).toEqual([]);
  });

  it('warns about keys the Hub does not know and about an unnamed other license', () => {
    expect(validateModelCard(card('license: other\nbasemodel: org/x\n'))).toEqual([
      { path: 'basemodel', message: expect.stringContaining('is not a model-card metadata key the Hub knows') as string, severity: 'warning' },
      { path: 'license_name', message: 'should name the license when license is "other"', severity: 'warning' },
      { path: 'license_link', message: 'should link the license text when license is "other"', severity: 'warning' },
    ]);
    expect(validateModelCard(card('license: Apache 2.0\n'))).toEqual([{ path: 'license', message: expect.stringContaining('lower-case license id') as string, severity: 'warning' }]);
  });
});

describe('render → parse round trip', () => {
  it("reads back a model card's metadata", () => {
    const meta = cardMetadata(renderModelCard(GRADIENT_CARD).readme);
    const expected: CardMetadata = {
      license: 'llama3',
      licenseName: null,
      licenseLink: null,
      baseModels: ['meta-llama/Meta-Llama-3-70B-Instruct'],
      baseModelRelation: 'finetune',
      libraryName: 'transformers',
      pipelineTag: 'text-generation',
      tags: GRADIENT_CARD.tags!,
      datasets: ['cerebras/SlimPajama-627B'],
      languages: ['en'],
      modelName: GRADIENT_CARD.hfName!,
      evaluations: GRADIENT_CARD.evaluations!.map((e) => ({
        suite: e.suite,
        taskType: 'text-generation',
        taskName: expect.any(String) as string,
        datasetType: expect.any(String) as string,
        datasetName: expect.any(String) as string,
        datasetConfig: e.task ?? (e.suite === 'mmlu' ? 'all' : null),
        datasetSplit: e.suite === 'mmlu' ? 'test' : null,
        metric: e.metric,
        label: e.label,
        value: e.value,
        contextLength: e.contextLength ?? null,
        shots: e.shots ?? null,
        sourceUrl: e.source?.url ?? null,
      })),
    };
    expect(meta).toEqual(expected);
  });

  it("reads back the other license and an adapter's base", () => {
    expect(cardMetadata(renderModelCard(ZHINAO_CARD).readme)).toMatchObject({ license: 'other', licenseName: 'llama3', licenseLink: 'https://llama.meta.com/llama3/license/', languages: ['en', 'zh'], evaluations: [] });
    expect(cardMetadata(renderAdapterCard(BAAI_ADAPTER).readme)).toMatchObject({
      baseModels: ['meta-llama/Meta-Llama-3-8B-Instruct'],
      baseModelRelation: 'adapter',
      libraryName: 'peft',
      tags: ['lora', 'peft'],
      evaluations: [{ suite: 'longbench', datasetType: 'THUDM/LongBench', metric: 'score', value: 43.1, contextLength: 81_920 }],
    });
  });

  it('refuses to read a card whose metadata is broken, naming the path', () => {
    expect(() => cardMetadata('# no metadata\n')).toThrow(/^front matter: /);
    expect(() => cardMetadata(card('base_model: 42\n'))).toThrow(expect.objectContaining({ name: 'ModelCardError', path: 'base_model' }));
  });
});
