'use client';

import { fmtBytes, fmtInt } from '@ctxlab/ui';
import Link from 'next/link';
import { useState } from 'react';
import { browserApi } from '../lib/client';
import type { Out } from '../lib/types';
import { ImportForm, useFileImport } from './FileImport';

const MAX_FILE_BYTES = 20_000_000;

/** A folder's worth of .txt files as a NIAH haystack: read in the browser, sent as one import (all or nothing). */
export function CorpusImport() {
  const imp = useFileImport<Out['datasets']['importCorpus']>();
  const { uid, fe, files, done } = imp;
  const [name, setName] = useState('');
  const [language, setLanguage] = useState<'en' | 'zh'>('en');
  const [source, setSource] = useState('');
  const [license, setLicense] = useState('');

  const check = () => {
    const problems: Record<string, string> = {};
    if (!files.length) problems.documents = 'choose at least one .txt file';
    const tooBig = files.filter((f) => f.size > MAX_FILE_BYTES);
    if (tooBig.length) problems.documents = `${tooBig.map((f) => f.name).join(', ')}: larger than ${fmtBytes(MAX_FILE_BYTES)} per file`;
    const notText = files.filter((f) => !/\.txt$/i.test(f.name) && f.type !== 'text/plain');
    if (notText.length) problems.documents = `${notText.map((f) => f.name).join(', ')}: only plain-text (.txt) files`;
    if (!name.trim()) problems.name = 'give the corpus a name';
    if (!source.trim()) problems.source = 'say where the texts come from';
    return problems;
  };
  const submit = imp.submit(check, async (refuse) => {
    const read = await Promise.all(files.map(async (f) => ({ name: f.name.replace(/\.txt$/i, ''), text: await f.text() })));
    const empty = read.filter((d) => !d.text.trim());
    if (empty.length) {
      refuse({ documents: `${empty.map((d) => d.name).join(', ')}: empty file${empty.length > 1 ? 's' : ''}` });
      return undefined;
    }
    return browserApi().datasets.importCorpus.mutate({
      name: name.trim(), language, source: source.trim(), ...(license.trim() ? { license: license.trim() } : {}), documents: read.sort((a, b) => a.name.localeCompare(b.name)),
    });
  });
  return (
    <ImportForm
      label="Import a corpus"
      state={imp}
      onSubmit={submit}
      picker={{ label: 'Text files (one document each)', accept: '.txt,text/plain', hint: 'Choose several .txt files; they are read in your browser and stored in the registry in name order.' }}
      doneTestId="import-done"
      imported={done && (
        <>
          Imported <Link href={`/datasets/${done.id}`}>{done.name}</Link>: {fmtInt(done.documents)} documents, {fmtBytes(done.bytes)}, {Object.entries(done.tokenCounts).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${fmtInt(v)} ${k} tokens`).join(' · ')}. Use it as an eval&apos;s haystack by name.
        </>
      )}
      submitText="Import corpus"
      busyText="importing and counting tokens…"
    >
      <div className="field"><label htmlFor={`${uid}-name`}>Name</label><input id={`${uid}-name`} type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder="pg-essays" {...fe.input('name')} />{fe.message('name')}</div>
      <div className="field">
        <label htmlFor={`${uid}-lang`}>Language</label>
        <select id={`${uid}-lang`} value={language} onChange={(e) => setLanguage(e.target.value as 'en' | 'zh')}><option value="en">English</option><option value="zh">Chinese</option></select>
      </div>
      <div className="field"><label htmlFor={`${uid}-src`}>Source</label><input id={`${uid}-src`} type="text" value={source} onChange={(e) => setSource(e.target.value)} placeholder="where the texts come from" {...fe.input('source')} />{fe.message('source')}</div>
      <div className="field"><label htmlFor={`${uid}-lic`}>License</label><input id={`${uid}-lic`} type="text" value={license} onChange={(e) => setLicense(e.target.value)} placeholder="optional" /></div>
    </ImportForm>
  );
}
