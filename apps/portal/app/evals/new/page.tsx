import { EmptyState } from '@ctxlab/ui';
import type { Metadata } from 'next';
import Link from 'next/link';
import { one, PageHead, type SearchParams } from '../../../src/components/EntityList';
import { StartEvalForm } from '../../../src/components/StartEvalForm';
import { tokenizerChoices } from '../../../src/lib/tokenizers';
import { StartBenchmarkForm, type BenchmarkSuite } from '../../../src/components/StartBenchmarkForm';
import { StartSuiteForm } from '../../../src/components/StartSuiteForm';
import { api } from '../../../src/server/api';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Start an eval' };

/** The suites this page starts, in the order of its tabs: each one's tab label and what it measures. */
const SUITES = {
  niah: { label: 'NIAH', about: 'A needle-in-a-haystack sweep against an OpenAI-compatible endpoint.' },
  ruler: { label: 'RULER', about: "RULER's synthetic tasks (retrieval, tracing, aggregation, QA) at the lengths you name." },
  'topic-retrieval': { label: 'Topic retrieval', about: "LongChat's topic retrieval: recall a conversation's topic as the conversation grows." },
  longbench: { label: 'LongBench', about: "LongBench's tasks from an imported copy, with its prompts, truncation and metrics." },
  infinitebench: { label: 'InfiniteBench', about: "InfiniteBench's long-book QA and summarisation from an imported copy." },
  mmlu: { label: 'MMLU', about: 'MMLU 0- and 5-shot from an imported copy: did the extension cost short-context skills?' },
  perplexity: { label: 'Perplexity', about: "Perplexity against context length through the endpoint's prompt logprobs." },
} as const;
type SuiteId = keyof typeof SUITES;
const isSuite = (s: string | undefined): s is SuiteId => s !== undefined && Object.hasOwn(SUITES, s);
const BENCHMARKS: readonly BenchmarkSuite[] = ['longbench', 'infinitebench', 'mmlu', 'perplexity'];
const isBenchmark = (s: string): s is BenchmarkSuite => (BENCHMARKS as readonly string[]).includes(s);

export default async function NewEvalPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const sp = await searchParams;
  const asked = one(sp.suite);
  const suite = isSuite(asked) ? asked : 'niah';
  const a = (await api());
  const [endpoints, models, datasets, benchmarks] = await Promise.all([
    a.endpoints.list({ limit: 200, sort: { field: 'name', dir: 'asc' } }),
    a.models.list({ limit: 200, sort: { field: 'name', dir: 'asc' } }),
    a.datasets.list({ limit: 200, kind: 'haystack' }),
    isBenchmark(suite) ? a.datasets.list({ limit: 200, kind: 'benchmark', sort: { field: 'name', dir: 'asc' } }) : Promise.resolve({ items: [] }),
  ]);
  const tokenizers = tokenizerChoices(models.items);
  return (
    <>
      <PageHead crumbs={[['/evals', 'Evals']]} title="Start an eval" sub={`${SUITES[suite].about} The cost is shown before anything starts.`} />
      <nav className="segmented suite-choice" aria-label="Suite">
        {Object.entries(SUITES).map(([k, { label }]) => (
          <Link key={k} href={`/evals/new?${new URLSearchParams({ ...(k === 'niah' ? {} : { suite: k }), ...(one(sp.endpoint) ? { endpoint: one(sp.endpoint)! } : {}) })}`} aria-current={k === suite ? 'page' : undefined}>
            {label}
          </Link>
        ))}
      </nav>
      {endpoints.items.length === 0 ? (
        <EmptyState title="No endpoint to evaluate">
          <p>An eval sends prompts to a registered OpenAI-compatible server (vLLM or similar).</p>
          <Link className="btn" href="/endpoints">Register an endpoint</Link>
        </EmptyState>
      ) : isBenchmark(suite) ? (
        <StartBenchmarkForm
          key={suite}
          suite={suite}
          endpoints={endpoints.items.map((e) => ({ id: e.id, name: e.name, url: e.url }))}
          benchmarks={benchmarks.items.map((d) => ({ name: d.name, tags: d.tags, tasks: Object.keys(d.tasks) }))}
          corpora={datasets.items.map((d) => ({ name: d.name, language: d.language }))}
          tokenizers={tokenizers}
          initialEndpointId={one(sp.endpoint)}
        />
      ) : suite !== 'niah' ? (
        <StartSuiteForm
          key={suite}
          suite={suite}
          endpoints={endpoints.items.map((e) => ({ id: e.id, name: e.name, url: e.url }))}
          datasets={datasets.items.map((d) => ({ name: d.name, language: d.language }))}
          tokenizers={tokenizers}
          initialEndpointId={one(sp.endpoint)}
        />
      ) : (
        <StartEvalForm
          endpoints={endpoints.items.map((e) => ({ id: e.id, name: e.name, url: e.url, modelId: e.modelId, maxModelLen: e.maxModelLen }))}
          models={models.items.map((m) => ({ id: m.id, name: m.name }))}
          tokenizers={tokenizers}
          corpora={datasets.items.map((d) => ({ name: d.name, language: d.language }))}
          initialEndpointId={one(sp.endpoint)}
        />
      )}
    </>
  );
}
