import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTokenizer } from '@ctxlab/tokenizers';
import { describe, expect, it } from 'vitest';
import { corpusTokenCount, corpusTokenCountYielding, getCorpusIndex, loadCorpusFromTexts, sentenceEnds, splitDocument } from './corpus';
import { NiahError } from './errors';
import { loadCorpusFromFolder } from './node/folder';
import { loadDefaultCorpus } from './node/default-corpora';
import { sha256Hex } from './sha256';

describe('corpora', () => {
  it('normalises documents and joins them into one haystack cycle', () => {
    const c = loadCorpusFromTexts('t', [
      { name: 'a', text: '\uFEFF  First doc.\r\nLine two.  ' },
      { name: 'empty', text: ' \n ' },
      { name: 'b', text: 'Second doc!' },
    ]);
    expect(c.documents.map((d) => d.name)).toEqual(['a', 'b']);
    expect(c.text).toBe('First doc.\nLine two.\n\nSecond doc!\n\n');
    expect(Array.from(c.docStarts)).toEqual([0, 22]);
    expect(c.digest()).toBe(sha256Hex(c.text));
    expect(() => loadCorpusFromTexts('none', [{ name: 'x', text: '  ' }])).toThrow(NiahError);
  });

  it('computes sha256 like everyone else', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    for (const text of ['a'.repeat(1000), '王莽在刘秀的手下工作。'.repeat(77), 'x'.repeat(55), 'y'.repeat(64)]) {
      expect(sha256Hex(text)).toBe(createHash('sha256').update(text).digest('hex'));
    }
  });

  it('finds sentence ends in English and Chinese', () => {
    const c = loadCorpusFromTexts('t', [{ name: 'a', text: 'One. Two? "Three." 床前明月光。疑是地上霜' }]);
    const ends = Array.from(sentenceEnds(c)).map((i) => c.text.slice(0, i).slice(-3));
    expect(ends).toEqual(['ne.', 'wo?', 'e."', '月光。']);
  });

  it('tokenises once per tokenizer and counts tokens exactly', () => {
    const c = loadCorpusFromTexts('t', [
      { name: 'a', text: 'Hello world. This is a test.' },
      { name: 'b', text: '王莽在刘秀的手下工作。' },
    ]);
    const llama3 = getTokenizer('llama3');
    expect(corpusTokenCount(c, llama3)).toBe(llama3.count(c.text));
    expect(corpusTokenCount(c, getTokenizer('byte'))).toBe(new TextEncoder().encode(c.text).length);
    expect(getCorpusIndex(c, llama3)).toBe(getCorpusIndex(c, llama3));
  });

  it('reads a folder of .txt files as a user corpus', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'niah-corpus-'));
    try {
      await writeFile(join(dir, 'b.txt'), 'Second essay.');
      await writeFile(join(dir, 'a.txt'), 'First essay.');
      await writeFile(join(dir, 'notes.md'), 'ignored');
      const c = await loadCorpusFromFolder(dir, { name: 'essays' });
      expect(c.name).toBe('essays');
      expect(c.documents.map((d) => d.name)).toEqual(['a.txt', 'b.txt']);
      await expect(loadCorpusFromFolder(join(dir, 'missing'))).rejects.toThrow(/cannot read corpus folder/);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('ships the default corpora', () => {
    const en = loadDefaultCorpus('sotu-en');
    expect(en.documents).toHaveLength(233);
    expect(en.documents[0]!.name).toBe('1790_george_washington_n');
    const zh = loadDefaultCorpus('tang-zh');
    expect(zh.documents.length).toBe(12413);
    expect(zh.documents[0]!.text.startsWith('帝京篇十首 一\n太宗皇帝\n')).toBe(true);
    expect(() => loadDefaultCorpus('paul-graham')).toThrow(/unknown corpus/);
  });
});

describe('long documents', () => {
  it('splitDocument cuts at paragraph breaks, and the parts read as the same haystack', () => {
    const paragraphs = Array.from({ length: 40 }, (_, i) => `Paragraph ${i} says something. `.repeat(20).trim());
    const text = paragraphs.join('\n\n');
    const parts = splitDocument({ name: 'book.txt', text }, 5_000);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.every((p) => p.text.length <= 5_000)).toBe(true);
    expect(parts[0]!.name).toBe(`book.txt (part 1 of ${parts.length})`);
    // Paragraph breaks are where documents join too, so the corpus text is unchanged.
    expect(loadCorpusFromTexts('parts', parts).text).toBe(loadCorpusFromTexts('whole', [{ name: 'book.txt', text }]).text);
    expect(splitDocument({ name: 'short', text: 'abc' }, 10)).toEqual([{ name: 'short', text: 'abc' }]);
  });

  it('splitDocument never cuts a surrogate pair, even with nowhere better to cut', () => {
    const parts = splitDocument({ name: 'e', text: '😀'.repeat(10) }, 5);
    expect(parts.map((p) => p.text).join('')).toBe('😀'.repeat(10));
    expect(parts.every((p) => !/^[\uDC00-\uDFFF]/.test(p.text))).toBe(true);
  });

  it('the yielding token count equals the plain one', async () => {
    const docs = [1, 2, 3].map((i) => ({ name: `${i}`, text: `Document ${i}. `.repeat(500) }));
    const tk = getTokenizer('llama3');
    expect(await corpusTokenCountYielding(loadCorpusFromTexts('y', docs), tk)).toBe(corpusTokenCount(loadCorpusFromTexts('n', docs), tk));
  });
});
