import type { ChatMessage } from '@ctxlab/tokenizers';
import { createReadStream, type ReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { DataprepError, type ErrorPlace } from '../errors';
import type { SourceSpec } from '../plan';

/** One document as read: a text (whole, or streamed in pieces) or a chat. */
export type SourceDocument =
  | { kind: 'text'; place: ErrorPlace; text: string | AsyncIterable<string> }
  | { kind: 'chat'; place: ErrorPlace; messages: ChatMessage[]; field: string };

/** Bytes read from disk so far, over every file opened (re-reads included). */
export class ByteMeter {
  private closed = 0;
  private readonly open = new Set<ReadStream>();
  track(stream: ReadStream): void {
    this.open.add(stream);
    stream.once('close', () => {
      this.open.delete(stream);
      this.closed += stream.bytesRead;
    });
  }
  get bytesRead(): number {
    let n = this.closed;
    for (const s of this.open) n += s.bytesRead;
    return n;
  }
}

export interface ResolvedSource {
  spec: SourceSpec;
  /** Files in reading order, as the plan names them (folder path joined with the relative path). */
  files: string[];
  bytes: number;
}

const READ_CHUNK = 1 << 20;
const stripBom = (s: string) => (s.charCodeAt(0) === 0xfeff ? s.slice(1) : s);

async function statOrFail(path: string, field: string) {
  try {
    return await stat(path);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(e as Error).message})`;
    throw new DataprepError('INVALID_SOURCE', `${field} ${why}`, { file: path, field });
  }
}

async function walk(dir: string, extensions: ReadonlySet<string>, out: string[]): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const full = join(dir, e.name);
    if (e.isDirectory()) await walk(full, extensions, out);
    else if (e.isFile() && extensions.has(e.name.slice(e.name.lastIndexOf('.')).toLowerCase())) out.push(full);
  }
}

/** Checks a source's path and lists its files (a folder recursively, hidden entries skipped, in path order). */
export async function resolveSource(spec: SourceSpec, index: number): Promise<ResolvedSource> {
  const field = `sources[${index}].path`;
  const info = await statOrFail(spec.path, field);
  if (spec.kind !== 'text-folder') {
    if (!info.isFile()) throw new DataprepError('INVALID_SOURCE', `${field} is not a file (a ${spec.kind} source is one JSON Lines file)`, { file: spec.path, field });
    return { spec, files: [spec.path], bytes: info.size };
  }
  if (!info.isDirectory()) throw new DataprepError('INVALID_SOURCE', `${field} is not a folder`, { file: spec.path, field });
  const found: string[] = [];
  await walk(spec.path, new Set(spec.extensions.map((x) => x.toLowerCase())), found);
  const key = (f: string) => relative(spec.path, f).split(sep).join('/');
  found.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  if (found.length === 0) throw new DataprepError('INVALID_SOURCE', `${field} holds no ${spec.extensions.join(' or ')} file`, { file: spec.path, field });
  let bytes = 0;
  for (const f of found) bytes += (await stat(f)).size;
  return { spec, files: found, bytes };
}

async function* fileText(file: string, meter: ByteMeter): AsyncGenerator<string> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: READ_CHUNK });
  meter.track(stream);
  let first = true;
  for await (const chunk of stream as AsyncIterable<string>) {
    yield first ? stripBom(chunk) : chunk;
    first = false;
  }
}

const describe = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

function parseMessages(value: unknown, field: string, place: ErrorPlace): ChatMessage[] {
  const fail = (f: string, message: string): never => {
    throw new DataprepError('INVALID_SOURCE', `field "${f}" ${message}`, { ...place, field: f });
  };
  if (value === undefined) fail(field, 'is missing');
  if (!Array.isArray(value)) return fail(field, `must be an array of {role, content}, not ${describe(value)}`);
  if (value.length === 0) fail(field, 'is empty');
  return value.map((m: unknown, i) => {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return fail(`${field}[${i}]`, `must be an object {role, content}, not ${describe(m)}`);
    const { role, content } = m as Record<string, unknown>;
    if (typeof role !== 'string') fail(`${field}[${i}].role`, role === undefined ? 'is missing' : `must be a string, not ${describe(role)}`);
    if (typeof content !== 'string') fail(`${field}[${i}].content`, content === undefined ? 'is missing' : `must be a string, not ${describe(content)}`);
    return { role: role as string, content: content as string };
  });
}

async function* jsonlDocuments(file: string, spec: Extract<SourceSpec, { kind: 'jsonl' | 'chat-jsonl' }>, meter: ByteMeter): AsyncGenerator<SourceDocument> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: READ_CHUNK });
  meter.track(stream);
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const raw of lines) {
      line++;
      const text = line === 1 ? stripBom(raw) : raw;
      if (text.trim() === '') continue;
      const place = { file, line };
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        throw new DataprepError('INVALID_SOURCE', `invalid JSON: ${(e as Error).message}`, place);
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DataprepError('INVALID_SOURCE', `the line is ${describe(value)}, not a JSON object`, place);
      const v = (value as Record<string, unknown>)[spec.field];
      if (spec.kind === 'chat-jsonl') {
        yield { kind: 'chat', place, messages: parseMessages(v, spec.field, place), field: spec.field };
        continue;
      }
      if (typeof v !== 'string') {
        throw new DataprepError('INVALID_SOURCE', `field "${spec.field}" ${v === undefined ? 'is missing' : `must be a string, not ${describe(v)}`}`, { ...place, field: spec.field });
      }
      yield { kind: 'text', place, text: v };
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}

/** The source's documents from the start (each call is one epoch). */
export async function* readDocuments(source: ResolvedSource, meter: ByteMeter): AsyncGenerator<SourceDocument> {
  const { spec } = source;
  if (spec.kind !== 'text-folder') {
    yield* jsonlDocuments(spec.path, spec, meter);
    return;
  }
  for (const file of source.files) yield { kind: 'text', place: { file }, text: fileText(file, meter) };
}
