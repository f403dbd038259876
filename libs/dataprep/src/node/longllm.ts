import type { IndexedEncoding, Tokenizer } from '@ctxlab/tokenizers';
import type { ErrorPlace } from '../errors';
import { LONGLLM_QLORA } from '../formats';
import { longllmConversation, TextPiecer } from '../longllm';
import { readAhead, type LengthSampler } from '../mix';
import { conversationsLine, textLine } from '../records';
import { countDocument } from '../stats';
import { cutSafeSegments } from '../tokenize';
import type { FormatRun, RunContext } from './run';
import { ShardSeries } from './shards';
import type { SourceDocument } from './sources';

interface Segment {
  text: string;
  enc: IndexedEncoding;
}

async function* textSegments(text: string | AsyncIterable<string>, tok: Tokenizer, place: ErrorPlace): AsyncGenerator<Segment> {
  if (typeof text === 'string') {
    if (text) yield { text, enc: tok.encodeIndexed(text) };
    return;
  }
  for await (const segment of cutSafeSegments(text, tok, place)) yield { text: segment, enc: tok.encodeIndexed(segment) };
}

/**
 * longllm_qlora shards (see LONGLLM_QLORA in formats.ts): texts go to `data/text-…jsonl` as
 * `{"text": …}` records, cut into pieces the loader will not truncate (at most seqLength − 2
 * tokens: it adds BOS and EOS); chats go to `data/conversations-…jsonl`, and a chat longer than
 * seqLength is skipped, as the loader would. Token counts are this tokenizer's (chats rendered
 * with its own template, which may differ from fastchat's by a few tokens).
 */
export function longllmRun(ctx: RunContext): FormatRun {
  const { tok } = ctx;
  const texts = new ShardSeries(ctx.outDir, LONGLLM_QLORA.textPrefix, ctx.maxShardBytes);
  const chats = new ShardSeries(ctx.outDir, LONGLLM_QLORA.chatPrefix, ctx.maxShardBytes);
  const overhead = LONGLLM_QLORA.textOverhead;
  let sequences = 0;
  let tokens = 0;
  const written = async (s: number, n: number) => {
    sequences++;
    tokens += n;
    ctx.stats[s]!.tokensOut += n;
    ctx.onRecord();
  };

  async function chat(s: number, doc: SourceDocument & { kind: 'chat' }, sampler: LengthSampler): Promise<number> {
    const conversation = longllmConversation(doc.messages, doc.place, doc.field);
    const length = tok.encodeChat(conversation, { addGenerationPrompt: false }).length;
    const keep = length <= ctx.seqLength && sampler.keep(length);
    countDocument(ctx.stats[s]!, length, keep);
    if (!keep) return 0;
    await chats.write(conversationsLine(conversation), length);
    await written(s, length);
    return length;
  }

  async function text(s: number, doc: SourceDocument & { kind: 'text' }, sampler: LengthSampler): Promise<number> {
    const it = textSegments(doc.text, tok, doc.place);
    try {
      return await pieceText(s, it, sampler, doc.place);
    } finally {
      await it.return(undefined); // closes the file when a failure stops the document half-way
    }
  }

  async function pieceText(s: number, it: AsyncGenerator<Segment>, sampler: LengthSampler, place: ErrorPlace): Promise<number> {
    const { head, count, ended } = await readAhead(it, (g) => g.enc.ids.length, sampler.lookahead - overhead);
    const keep = count > 0 && sampler.keep(count + overhead);
    if (!keep) {
      countDocument(ctx.stats[s]!, count === 0 ? 0 : count + overhead, false);
      return 0;
    }
    let out = 0;
    let content = 0;
    const piecer = new TextPiecer(
      ctx.seqLength - overhead,
      async (piece, n) => {
        await texts.write(textLine(piece), n + overhead);
        await written(s, n + overhead);
        out += n + overhead;
      },
      place,
    );
    for (const g of head) {
      content += g.enc.ids.length;
      await piecer.add(g.text, g.enc);
    }
    if (!ended) {
      for (let r = await it.next(); !r.done; r = await it.next()) {
        content += r.value.enc.ids.length;
        await piecer.add(r.value.text, r.value.enc);
      }
    }
    await piecer.flush();
    countDocument(ctx.stats[s]!, content + overhead, true);
    return out;
  }

  return {
    document: (s, doc, sampler) => (doc.kind === 'chat' ? chat(s, doc, sampler) : text(s, doc, sampler)),
    async finish() {
      return [...(await texts.finalize()), ...(await chats.finalize())];
    },
    async abort() {
      await texts.abort();
      await chats.abort();
    },
    get sequences() {
      return sequences;
    },
    get tokens() {
      return tokens;
    },
  };
}
