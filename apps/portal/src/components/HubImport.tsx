'use client';

import { isHubTextFile, licenseSchema, MAX_HUB_TEXT_BYTES, MAX_SAFETENSORS_HEADER_BYTES } from '@ctxlab/contracts';
import { fmtInt } from '@ctxlab/ui';
import Link from 'next/link';
import { useState } from 'react';
import { browserApi } from '../lib/client';
import type { Out } from '../lib/types';
import { ImportForm, useFileImport } from './FileImport';


/** The 8-byte little-endian length and the JSON header of a .safetensors file, read by slicing: the weights are never loaded. */
async function safetensorsHead(f: File): Promise<{ name: string; size: number; head: string } | string> {
  if (f.size < 8) return `${f.name}: shorter than the 8-byte safetensors header length`;
  const len = new DataView(await f.slice(0, 8).arrayBuffer()).getBigUint64(0, true);
  if (len > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) return `${f.name}: its header claims ${len.toLocaleString('en-US')} bytes; not a safetensors file, or a damaged one`;
  const bytes = new Uint8Array(await f.slice(0, 8 + Number(len)).arrayBuffer());
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { name: f.name, size: f.size, head: btoa(bin) };
}

/**
 * A Hugging Face model or PEFT adapter folder as a registry record: the configs, tokenizer and
 * card are read in the browser, and of each weight file only its header; the server checks them
 * (errors name the file and field) and registers the model or adapter, or nothing.
 */
export function HubImport() {
  const imp = useFileImport<Out['models']['import']>();
  const { uid, fe, files, done } = imp;
  const [name, setName] = useState('');
  const [license, setLicense] = useState('');
  const [source, setSource] = useState('');

  const check = () => {
    const problems: Record<string, string> = {};
    const names = new Set(files.map((f) => f.name));
    if (!names.has('config.json') && !names.has('adapter_config.json')) problems.documents = 'choose the folder’s files, including config.json (a model) or adapter_config.json (an adapter)';
    const big = files.filter((f) => isHubTextFile(f.name) && f.size > MAX_HUB_TEXT_BYTES);
    if (big.length) problems.documents = `${big.map((f) => f.name).join(', ')}: larger than 32 MiB`;
    const lic = license.trim() ? licenseSchema.safeParse(license.trim()) : null;
    if (lic && !lic.success) problems.license = lic.error.issues[0]!.message;
    if (source.trim() && !/^(hf|file|s3):\/\//.test(source.trim())) problems.source = 'hf://owner/name, file:///path or s3://bucket/key';
    return problems;
  };
  const submit = imp.submit(check, async (refuse) => {
    const texts = await Promise.all(files.filter((f) => isHubTextFile(f.name)).map(async (f) => ({ name: f.name, text: await f.text() })));
    const heads = await Promise.all(files.filter((f) => f.name.endsWith('.safetensors')).map(safetensorsHead));
    const bad = heads.filter((h): h is string => typeof h === 'string');
    if (bad.length) {
      refuse({ documents: bad.join('; ') });
      return undefined;
    }
    return browserApi().models.import.mutate({
      files: texts,
      safetensors: heads.filter((h): h is Exclude<typeof h, string> => typeof h !== 'string'),
      ...(name.trim() ? { name: name.trim() } : {}),
      ...(license.trim() ? { license: license.trim() } : {}),
      ...(source.trim() ? { sourceUri: source.trim() } : {}),
    });
  });
  return (
    <ImportForm
      label="Import from Hugging Face files"
      state={imp}
      onSubmit={submit}
      picker={{
        label: 'The folder’s files',
        accept: '.json,.md,.jinja,.safetensors',
        hint: 'Select config.json, tokenizer.json, tokenizer_config.json, generation_config.json, README.md and the .safetensors files (or adapter_config.json and adapter_model.safetensors). Only the headers of weight files are read.',
      }}
      doneTestId="hub-import-done"
      imported={
        done &&
        (done.kind === 'model' ? (
          <>
            Imported <Link href={`/models/${done.created!.id}`}>{done.model.name}</Link>: {done.model.config.architecture}, {done.model.config.numLayers} layers, RoPE θ {fmtInt(done.model.config.ropeTheta)},{' '}
            {fmtInt(done.model.config.maxPositionEmbeddings)} positions{done.hub.weights ? `, ${fmtInt(done.hub.weights.params)} parameters` : ''}, tokenizer {done.model.config.tokenizer.startsWith('hf:') ? 'stored from tokenizer.json' : done.model.config.tokenizer}.
            {done.hub.warnings.length > 0 && <> Warnings: {done.hub.warnings.map((w) => w.message).join('; ')}</>}
          </>
        ) : (
          <>
            Imported adapter <Link href={`/adapters/${done.created!.id}`}>{done.adapter.name}</Link>: LoRA rank {done.adapter.rank}, alpha {done.adapter.alpha}, on <Link href={`/models/${done.base.id}`}>{done.base.name}</Link>.
          </>
        ))
      }
      submitText="Import"
      busyText="reading headers and importing…"
    >
      <div className="field"><label htmlFor={`${uid}-name`}>Name</label><input id={`${uid}-name`} type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder="default: the Hub name in config.json" {...fe.input('name')} />{fe.message('name')}</div>
      <div className="field"><label htmlFor={`${uid}-lic`}>License</label><input id={`${uid}-lic`} type="text" value={license} onChange={(e) => setLicense(e.target.value)} placeholder="default: README.md's license" {...fe.input('license')} />{fe.message('license')}</div>
      <div className="field"><label htmlFor={`${uid}-src`}>Weights at</label><input id={`${uid}-src`} type="text" value={source} onChange={(e) => setSource(e.target.value)} placeholder="hf://owner/name (recorded, not read)" {...fe.input('source')} />{fe.message('source')}</div>
    </ImportForm>
  );
}
