'use client';

import { fmtBytes, fmtInt } from '@ctxlab/ui';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useId, useState, type FormEvent } from 'react';
import { browserApi } from '../lib/client';
import type { Out } from '../lib/types';
import { ErrorCallout, fieldErrorUi, FilesField, useSubmit } from './FormErrors';

const MAX_FILE_BYTES = 20_000_000;

/** A folder's worth of .txt files as a NIAH haystack: read in the browser, sent as one import (all or nothing). */
export function CorpusImport() {
  const uid = useId();
  const router = useRouter();
  const [files, setFiles] = useState<File[]>([]);
  const [name, setName] = useState('');
  const [language, setLanguage] = useState<'en' | 'zh'>('en');
  const [source, setSource] = useState('');
  const [license, setLicense] = useState('');
  const { submitting: busy, setSubmitting, submitError: error, errors, setErrors, reset, send } = useSubmit();
  const [done, setDone] = useState<Out['datasets']['importCorpus'] | null>(null);

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    reset();
    setDone(null);
    const problems: Record<string, string> = {};
    if (!files.length) problems.documents = 'choose at least one .txt file';
    const tooBig = files.filter((f) => f.size > MAX_FILE_BYTES);
    if (tooBig.length) problems.documents = `${tooBig.map((f) => f.name).join(', ')}: larger than ${fmtBytes(MAX_FILE_BYTES)} per file`;
    const notText = files.filter((f) => !/\.txt$/i.test(f.name) && f.type !== 'text/plain');
    if (notText.length) problems.documents = `${notText.map((f) => f.name).join(', ')}: only plain-text (.txt) files`;
    if (!name.trim()) problems.name = 'give the corpus a name';
    if (!source.trim()) problems.source = 'say where the texts come from';
    if (Object.keys(problems).length) {
      setErrors(problems);
      return;
    }
    await send(async () => {
      const read = await Promise.all(files.map(async (f) => ({ name: f.name.replace(/\.txt$/i, ''), text: await f.text() })));
      const empty = read.filter((d) => !d.text.trim());
      if (empty.length) {
        setErrors({ documents: `${empty.map((d) => d.name).join(', ')}: empty file${empty.length > 1 ? 's' : ''}` });
        setSubmitting(false);
        return;
      }
      const r = await browserApi().datasets.importCorpus.mutate({
        name: name.trim(), language, source: source.trim(), ...(license.trim() ? { license: license.trim() } : {}), documents: read.sort((a, b) => a.name.localeCompare(b.name)),
      });
      setDone(r);
      setFiles([]);
      setSubmitting(false);
      router.refresh();
    });
  };
  const fe = fieldErrorUi(uid, errors);
  return (
    <form onSubmit={submit} noValidate aria-label="Import a corpus">
      <div className="form-grid">
        <div className="field"><label htmlFor={`${uid}-name`}>Name</label><input id={`${uid}-name`} type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder="pg-essays" {...fe.input('name')} />{fe.message('name')}</div>
        <div className="field">
          <label htmlFor={`${uid}-lang`}>Language</label>
          <select id={`${uid}-lang`} value={language} onChange={(e) => setLanguage(e.target.value as 'en' | 'zh')}><option value="en">English</option><option value="zh">Chinese</option></select>
        </div>
        <div className="field"><label htmlFor={`${uid}-src`}>Source</label><input id={`${uid}-src`} type="text" value={source} onChange={(e) => setSource(e.target.value)} placeholder="where the texts come from" {...fe.input('source')} />{fe.message('source')}</div>
        <div className="field"><label htmlFor={`${uid}-lic`}>License</label><input id={`${uid}-lic`} type="text" value={license} onChange={(e) => setLicense(e.target.value)} placeholder="optional" /></div>
      </div>
      <FilesField uid={uid} fe={fe} label="Text files (one document each)" accept=".txt,text/plain" hint="Choose several .txt files; they are read in your browser and stored in the registry in name order." files={files} setFiles={setFiles} />
      <ErrorCallout message={error} />
      {done && (
        <div className="callout ok" role="status" data-testid="import-done">
          <p>Imported <Link href={`/datasets/${done.id}`}>{done.name}</Link>: {fmtInt(done.documents)} documents, {fmtBytes(done.bytes)}, {Object.entries(done.tokenCounts).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${fmtInt(v)} ${k} tokens`).join(' · ')}. Use it as an eval&apos;s haystack by name.</p>
        </div>
      )}
      <div className="form-actions">
        <button type="submit" className="btn" disabled={busy}>{busy ? <><span className="spinner" aria-hidden="true" /> importing and counting tokens…</> : 'Import corpus'}</button>
      </div>
    </form>
  );
}
