'use client';

import { fileDocuments, MAX_CORPUS_CHARS, MAX_CORPUS_DOCUMENT_CHARS } from '@ctxlab/contracts';
import { fmtBytes, fmtInt } from '@ctxlab/ui';
import Link from 'next/link';
import { useState } from 'react';
import { browserApi } from '../lib/client';
import type { Out } from '../lib/types';
import { ImportForm, useFileImport } from './FileImport';

const FORMATS = [
  ['longbench', 'LongBench', '.jsonl', "LongBench's data/*.jsonl (one file per dataset)"],
  ['infinitebench', 'InfiniteBench', '.jsonl', "InfiniteBench's per-task .jsonl (longbook_qa_eng.jsonl, …)"],
  ['mmlu', 'MMLU', '.csv', "MMLU's per-subject CSVs ({subject}_dev.csv for few-shot, {subject}_test.csv)"],
] as const;
type Format = (typeof FORMATS)[number][0];

/** A benchmark's files as published, read in the browser and sent unchanged; the API checks them with the format's parser. */
export function BenchmarkImport() {
  const imp = useFileImport<Out['datasets']['importBenchmark']>();
  const { uid, fe, files, done } = imp;
  const [format, setFormat] = useState<Format>('longbench');
  const [name, setName] = useState('');
  const [source, setSource] = useState('');
  const fmt = FORMATS.find(([k]) => k === format)!;

  const total = files.reduce((a, f) => a + f.size, 0);
  const check = () => {
    const problems: Record<string, string> = {};
    if (!files.length) problems.documents = `choose the ${fmt[2]} files`;
    const wrong = files.filter((f) => !f.name.toLowerCase().endsWith(fmt[2]));
    if (wrong.length) problems.documents = `${wrong.map((f) => f.name).join(', ')}: ${fmt[1]} files end in ${fmt[2]}`;
    if (total > MAX_CORPUS_CHARS) problems.documents = `${fmtBytes(total)} is more than one import takes (${fmtBytes(MAX_CORPUS_CHARS)}): import the tasks in parts, or with the CLI's --tasks`;
    if (!name.trim()) problems.name = 'give the dataset a name';
    if (!source.trim()) problems.source = 'say where the files come from';
    return problems;
  };
  const submit = imp.submit(check, async () => {
    const read = await Promise.all(files.map(async (f) => ({ name: f.webkitRelativePath || f.name, text: await f.text() })));
    return browserApi().datasets.importBenchmark.mutate({
      name: name.trim(), format, source: source.trim(),
      documents: read.sort((a, b) => a.name.localeCompare(b.name)).flatMap((f) => fileDocuments(f.name, f.text, MAX_CORPUS_DOCUMENT_CHARS)),
    });
  });
  return (
    <ImportForm
      label="Import a benchmark"
      state={imp}
      onSubmit={submit}
      picker={{ label: 'Benchmark files', accept: fmt[2], hint: `${fmt[3]}, unchanged: each is checked line by line and a bad one is named with its line and field.` }}
      doneTestId="benchmark-import-done"
      imported={done && (
        <>
          Imported <Link href={`/datasets/${done.id}`}>{done.name}</Link>: {fmtInt(Object.keys(done.tasks).length)} tasks, {fmtInt(Object.values(done.tasks).reduce((n, t) => n + t.items, 0))} items, {fmtBytes(done.bytes)}. Run it with <code>ctxlab evals start --suite {format} --dataset {done.name}</code>.
        </>
      )}
      submitText="Import benchmark"
      busyText="checking and importing…"
    >
      <div className="field">
        <label htmlFor={`${uid}-fmt`}>Benchmark</label>
        <select id={`${uid}-fmt`} value={format} onChange={(e) => setFormat(e.target.value as Format)} {...fe.input('format')}>
          {FORMATS.map(([k, label]) => <option key={k} value={k}>{label}</option>)}
        </select>
        {fe.message('format')}
      </div>
      <div className="field"><label htmlFor={`${uid}-name`}>Name</label><input id={`${uid}-name`} type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder={format} {...fe.input('name')} />{fe.message('name')}</div>
      <div className="field"><label htmlFor={`${uid}-src`}>Source</label><input id={`${uid}-src`} type="text" value={source} onChange={(e) => setSource(e.target.value)} placeholder="where the files come from" {...fe.input('source')} />{fe.message('source')}</div>
    </ImportForm>
  );
}
