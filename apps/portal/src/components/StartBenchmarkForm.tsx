'use client';

import { useId, useMemo, useState } from 'react';
import type { In } from '../lib/types';
import type { TokenizerChoice } from '../lib/tokenizers';
import { fieldErrorUi } from './FormErrors';
import { ConcurrencyField, CorpusField, InputField, parseLengths, type RequestMode, useRunTarget } from './StartEvalForm';
import { SuiteRunForm, useSuiteRun, wholeNumber } from './StartSuiteForm';

type Spec = In['evals']['startSuite']['spec'];
export type BenchmarkSuite = 'longbench' | 'infinitebench' | 'mmlu' | 'perplexity';

const TITLE: Record<BenchmarkSuite, string> = { longbench: 'LongBench', infinitebench: 'InfiniteBench', mmlu: 'MMLU', perplexity: 'endpoint perplexity' };
const DEFAULT_MAX_LENGTH = { longbench: '31500', infinitebench: '128000' } as const;

interface Props {
  suite: BenchmarkSuite;
  endpoints: { id: string; name: string; url: string }[];
  /** Imported benchmark datasets (their format is their tag) and their tasks. */
  benchmarks: { name: string; tags: string[]; tasks: string[] }[];
  /** Haystack datasets, for perplexity's held-out text. */
  corpora: { name: string; language: string }[];
  /** Built-in tokenizers and those imported with models. */
  tokenizers?: readonly TokenizerChoice[];
  initialEndpointId?: string | undefined;
}

/** The task names a run picks from: LongBench datasets and InfiniteBench tasks as imported; MMLU subjects that have a test file. */
const runnableTasks = (suite: BenchmarkSuite, tasks: string[]) =>
  suite === 'mmlu' ? tasks.filter((t) => t.endsWith('_test')).map((t) => t.slice(0, -'_test'.length)).sort() : [...tasks].sort();

/** Starts LongBench, InfiniteBench, MMLU or endpoint perplexity from an imported dataset, with the API's estimate first. */
export function StartBenchmarkForm({ suite, endpoints, benchmarks, corpora, tokenizers, initialEndpointId }: Props) {
  const uid = useId();
  const ofSuite = benchmarks.filter((b) => b.tags.includes(suite));
  const { endpointId, setEndpointId, name, setName } = useRunTarget(suite, endpoints, initialEndpointId);
  const [dataset, setDataset] = useState(ofSuite[0]?.name ?? '');
  const [picked, setPicked] = useState<string[] | null>(null);
  const [maxLength, setMaxLength] = useState<string>(suite === 'longbench' || suite === 'infinitebench' ? DEFAULT_MAX_LENGTH[suite] : '');
  const [shots, setShots] = useState('0, 5');
  const [scoring, setScoring] = useState<'auto' | 'logprobs' | 'generate'>('auto');
  const [limit, setLimit] = useState('');
  const [lengths, setLengths] = useState('1024, 2048, 4096');
  const [samples, setSamples] = useState('4');
  const [corpus, setCorpus] = useState('');
  const [tokenizer, setTokenizer] = useState('llama3');
  const [chatTemplate, setChatTemplate] = useState(true);
  const [mode, setMode] = useState<RequestMode>(suite === 'perplexity' ? 'completion-ids' : 'chat');
  const [concurrency, setConcurrency] = useState('4');
  // Memoised: the spec (and so the live estimate) must change only when the choice does.
  const available = useMemo(() => runnableTasks(suite, benchmarks.find((b) => b.name === dataset && b.tags.includes(suite))?.tasks ?? []), [suite, benchmarks, dataset]);
  const tasks = picked ?? available;

  const spec = useMemo((): { value: Spec } | { problem: string; field: string } => {
    if (suite === 'perplexity') {
      const ls = parseLengths(lengths);
      if (!ls) return { problem: 'lengths: write whole numbers of tokens separated by commas', field: 'spec.lengths' };
      const n = wholeNumber(samples, 1, 1000);
      if (n === null) return { problem: 'windows must be a whole number from 1 to 1000', field: 'spec.samples' };
      return { value: { suite, lengths: ls, samples: n, tokenizer, ...(corpus ? { corpus } : {}) } };
    }
    if (!dataset) return { problem: `dataset: import a ${TITLE[suite]} dataset first (Datasets → Import a benchmark)`, field: 'spec.dataset' };
    if (!tasks.length) return { problem: 'tasks: tick at least one', field: suite === 'mmlu' ? 'spec.subjects' : 'spec.tasks' };
    const items = limit.trim() === '' ? undefined : wholeNumber(limit, 1, 100_000);
    if (items === null) return { problem: 'items per task: a whole number from 1 to 100000, or empty for all', field: 'spec.limit' };
    const common = { dataset, tokenizer, chatTemplate, ...(items ? { limit: items } : {}), ...(picked ? { [suite === 'mmlu' ? 'subjects' : 'tasks']: tasks } : {}) };
    if (suite === 'mmlu') {
      const ks = shots.split(/[\s,;]+/).filter(Boolean).map(Number);
      if (!ks.length || ks.some((k) => !Number.isInteger(k) || k < 0 || k > 5)) return { problem: 'shots: whole numbers from 0 to 5 separated by commas', field: 'spec.shots' };
      return { value: { suite, shots: ks, scoring, ...common } };
    }
    const L = wholeNumber(maxLength, 1, 16_777_216);
    if (L === null) return { problem: 'max length: a whole number of tokens', field: 'spec.maxLength' };
    return { value: { suite, maxLength: L, ...common } };
  }, [suite, lengths, samples, tokenizer, corpus, dataset, tasks, picked, limit, chatTemplate, shots, scoring, maxLength]);

  const run = useSuiteRun(spec, { name, endpointId, concurrency, mode });
  const fe = fieldErrorUi(uid, run.fieldErrors, true);
  const toggle = (t: string) => setPicked(tasks.includes(t) ? tasks.filter((x) => x !== t) : [...tasks, t]);

  return (
    <SuiteRunForm
      uid={uid}
      fe={fe}
      run={run}
      label={`Start a ${TITLE[suite]} run`}
      target={{ name, setName, endpointId, setEndpointId, endpoints }}
      tokenizer={tokenizer}
      setTokenizer={setTokenizer}
      tokenizers={tokenizers}
      mode={mode}
      setMode={setMode}
      fields={<ConcurrencyField uid={uid} fe={fe} value={concurrency} onChange={setConcurrency} />}
      options={
        suite !== 'perplexity' && (
          <label className="check-row">
            <input type="checkbox" checked={chatTemplate} onChange={(e) => setChatTemplate(e.target.checked)} /> Chat template (where the benchmark uses one)
          </label>
        )
      }
    >
      <section className="panel" aria-labelledby={`${uid}-data`}>
        <h2 id={`${uid}-data`}>{suite === 'perplexity' ? 'Held-out text' : 'Data'}</h2>
        {suite === 'perplexity' ? (
          <div className="form-grid">
            <CorpusField uid={uid} fe={fe} label="Text" value={corpus} onChange={setCorpus} corpora={corpora} />
            <InputField uid={uid} fe={fe} name="lengths" label="Window lengths (tokens)" field="spec.lengths" type="text" value={lengths} onChange={setLengths} />
            <InputField uid={uid} fe={fe} name="samples" label="Windows per length" field="spec.samples" type="number" min={1} max={1000} value={samples} onChange={setSamples} />
          </div>
        ) : (
          <>
            <div className="form-grid">
              <div className="field">
                <label htmlFor={`${uid}-dataset`}>Dataset</label>
                <select id={`${uid}-dataset`} value={dataset} onChange={(e) => { setDataset(e.target.value); setPicked(null); }} {...fe.input('spec.dataset')}>
                  {ofSuite.length === 0 && <option value="">no {TITLE[suite]} import yet</option>}
                  {ofSuite.map((b) => <option key={b.name} value={b.name}>{b.name}</option>)}
                </select>
                {fe.message('spec.dataset')}
              </div>
              {suite === 'mmlu' ? (
                <>
                  <InputField uid={uid} fe={fe} name="shots" label="Shots" field="spec.shots" type="text" value={shots} onChange={setShots} />
                  <div className="field">
                    <label htmlFor={`${uid}-scoring`}>Answers read by</label>
                    <select id={`${uid}-scoring`} value={scoring} onChange={(e) => setScoring(e.target.value as 'auto' | 'logprobs' | 'generate')}>
                      <option value="auto">logprobs where the endpoint returns them (auto)</option>
                      <option value="logprobs">the answer letter&apos;s logprobs</option>
                      <option value="generate">the letter the model writes</option>
                    </select>
                  </div>
                </>
              ) : (
                <InputField uid={uid} fe={fe} name="maxlen" label="Max length (tokens)" field="spec.maxLength" hint="longer prompts keep their first and last halves" type="text" value={maxLength} onChange={setMaxLength} />
              )}
              <InputField uid={uid} fe={fe} name="limit" label="Items per task" field="spec.limit" type="text" placeholder="all" value={limit} onChange={setLimit} />
            </div>
            <fieldset {...fe.input(suite === 'mmlu' ? 'spec.subjects' : 'spec.tasks')}>
              <legend>{suite === 'mmlu' ? 'Subjects' : 'Tasks'}</legend>
              <div className="suite-tasks">
                {available.map((t) => <label key={t}><input type="checkbox" checked={tasks.includes(t)} onChange={() => toggle(t)} /> {t}</label>)}
              </div>
              {fe.message(suite === 'mmlu' ? 'spec.subjects' : 'spec.tasks')}
            </fieldset>
          </>
        )}
      </section>
    </SuiteRunForm>
  );
}
