import { HubImportError } from './issues';

/**
 * Where the importer reads a Hugging Face repository from: a local directory (`dirFiles` in
 * ./node), files a browser has uploaded, or a remote store that answers HTTP range requests. Only
 * JSON files are read whole; weights are read through `readRange`, a header at a time.
 */
export interface HubFiles {
  /** Every file name, relative to the repository root and '/'-separated. */
  list(): Promise<string[]>;
  /** A file's text (UTF-8), or null when there is no such file. */
  readText(name: string): Promise<string | null>;
  /** Bytes [start, end) of a file (fewer when the file ends first), or null when there is no such file. */
  readRange(name: string, start: number, end: number): Promise<Uint8Array | null>;
  /** A file's size in bytes, or null when there is no such file; lets the importer spot a download that stopped short. */
  size?(name: string): Promise<number | null>;
}

/**
 * Files held in memory (e.g. uploaded in a browser): name → text or bytes. Text is encoded as
 * UTF-8 when a range of it is asked for.
 */
export function memoryFiles(entries: Readonly<Record<string, string | Uint8Array>>): HubFiles {
  const bytes = (name: string): Uint8Array | null => {
    const v = entries[name];
    if (v === undefined) return null;
    return typeof v === 'string' ? new TextEncoder().encode(v) : v;
  };
  return {
    list: async () => Object.keys(entries).sort(),
    readText: async (name) => {
      const v = entries[name];
      if (v === undefined) return null;
      return typeof v === 'string' ? v : new TextDecoder().decode(v);
    },
    readRange: async (name, start, end) => bytes(name)?.slice(start, end) ?? null,
    size: async (name) => bytes(name)?.byteLength ?? null,
  };
}

/**
 * What a client sends to import a repository without its weights: the JSON and text files whole,
 * and of each .safetensors file its size and its first bytes (the 8-byte length and the header).
 * Reading past a header's bytes is refused by name: the weights were never sent.
 */
export function uploadedFiles(texts: Readonly<Record<string, string>>, heads: Readonly<Record<string, { size: number; head: Uint8Array }>>): HubFiles {
  const encoder = new TextEncoder();
  return {
    list: async () => [...new Set([...Object.keys(texts), ...Object.keys(heads)])].sort(),
    readText: async (name) => texts[name] ?? (heads[name] ? new TextDecoder().decode(heads[name].head) : null),
    readRange: async (name, start, end) => {
      const t = texts[name];
      if (t !== undefined) return encoder.encode(t).slice(start, end);
      const h = heads[name];
      if (!h) return null;
      const stop = Math.min(end, h.size);
      if (stop > h.head.byteLength) {
        const message = `${name}: its header runs to byte ${stop.toLocaleString('en-US')}, but only its first ${h.head.byteLength.toLocaleString('en-US')} bytes were sent: send the whole header (the 8-byte length and the JSON after it)`;
        throw new HubImportError([{ file: name, field: '(header)', message, severity: 'error' }]);
      }
      return h.head.slice(start, stop);
    },
    size: async (name) => (texts[name] !== undefined ? encoder.encode(texts[name]).byteLength : (heads[name]?.size ?? null)),
  };
}
