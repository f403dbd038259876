import type { Tokenizer } from '@ctxlab/tokenizers';
import type { ErrorPlace } from '../errors';
import { EASYCONTEXT } from '../formats';
import { readAhead, type LengthSampler } from '../mix';
import { Packer, type PackingMode } from '../packer';
import { IdsLineEncoder } from '../records';
import { countDocument } from '../stats';
import { cutSafeSegments, encodeChatWithMask } from '../tokenize';
import type { FormatRun, RunContext } from './run';
import { ShardSeries } from './shards';
import type { SourceDocument } from './sources';

/** A text's tokens, a piece per cut-safe segment (no separators). */
async function* textTokens(text: string | AsyncIterable<string>, tok: Tokenizer, place: ErrorPlace): AsyncGenerator<number[]> {
  if (typeof text === 'string') {
    if (text) yield tok.encode(text);
    return;
  }
  for await (const segment of cutSafeSegments(text, tok, place)) yield tok.encode(segment);
}

/**
 * EasyContext shards: every document becomes BOS + tokens + EOS (a chat: its chat template, which
 * starts with BOS for Llama-3, + EOS), the stream is cut into records of seqLength + 1 tokens
 * (see EASYCONTEXT in formats.ts) and each record is one `{"input_ids": […]}` line. With
 * lossMask, text tokens and their separators get 1, chat tokens 1 only in assistant turns.
 */
export function easyContextRun(ctx: RunContext, opts: { packing: PackingMode; lossMask: boolean }): FormatRun {
  const { tok } = ctx;
  const bos = tok.special.bos.id;
  const eos = tok.special.eos.id;
  const lines = new IdsLineEncoder(tok.vocabSize);
  const shards = new ShardSeries(ctx.outDir, EASYCONTEXT.shardPrefix, ctx.maxShardBytes);
  let tokens = 0;
  const packer = new Packer({
    recordTokens: EASYCONTEXT.recordTokens(ctx.seqLength),
    mode: opts.packing,
    withMask: opts.lossMask,
    sink: async (r) => {
      await shards.write(lines.easyContextLine(r.ids, r.mask), r.ids.length);
      tokens += r.ids.length;
      ctx.onRecord();
    },
  });

  async function chat(s: number, messages: SourceDocument & { kind: 'chat' }, sampler: LengthSampler): Promise<number> {
    const { ids, mask } = encodeChatWithMask(tok, messages.messages);
    const lead = ids[0] === bos ? 0 : 1;
    const length = lead + ids.length + 1;
    const keep = sampler.keep(length);
    countDocument(ctx.stats[s]!, length, keep);
    if (!keep) return 0;
    if (lead) await packer.push(s, [bos], undefined, 0);
    await packer.push(s, ids, mask);
    await packer.push(s, [eos], undefined, 0);
    return length;
  }

  async function text(s: number, doc: SourceDocument & { kind: 'text' }, sampler: LengthSampler): Promise<number> {
    const it = textTokens(doc.text, tok, doc.place);
    try {
      return await packText(s, it, sampler);
    } finally {
      await it.return(undefined); // closes the file when a failure stops the document half-way
    }
  }

  async function packText(s: number, it: AsyncGenerator<number[]>, sampler: LengthSampler): Promise<number> {
    // Two separators count towards the length the up-sampling threshold is compared with.
    const { head, count, ended } = await readAhead(it, (p) => p.length, sampler.lookahead - 2);
    let length = count + 2;
    const keep = count > 0 && sampler.keep(length);
    if (!keep) {
      countDocument(ctx.stats[s]!, count === 0 ? 0 : length, false);
      return 0;
    }
    await packer.push(s, [bos]);
    for (const piece of head) await packer.push(s, piece);
    if (!ended) {
      for (let r = await it.next(); !r.done; r = await it.next()) {
        await packer.push(s, r.value);
        length += r.value.length;
      }
    }
    await packer.push(s, [eos]);
    countDocument(ctx.stats[s]!, length, true);
    return length;
  }

  return {
    async document(s, doc, sampler) {
      const droppedBefore = packer.dropped.get(s) ?? 0;
      const pushed = doc.kind === 'chat' ? await chat(s, doc, sampler) : await text(s, doc, sampler);
      if (pushed > 0) packer.endDocument();
      return pushed - ((packer.dropped.get(s) ?? 0) - droppedBefore);
    },
    async finish() {
      packer.finish();
      ctx.stats.forEach((st, s) => {
        st.tokensOut = packer.written.get(s) ?? 0;
        st.tokensDropped = packer.dropped.get(s) ?? 0;
      });
      return shards.finalize();
    },
    abort: () => shards.abort(),
    get sequences() {
      return packer.records;
    },
    get tokens() {
      return tokens;
    },
  };
}
