/**
 * A local OpenAI-compatible server for the lab models (`/v1/models`, `/v1/chat/completions`,
 * `/v1/completions` with text or token-id prompts, `/health`), speaking vLLM's error format, so the
 * whole pipeline — endpoints, NIAH sweeps, the portal — runs on a laptop against a real model.
 * `stream: true` answers with server-sent events as the OpenAI API does, one event per decoded
 * token, so OpenAI's own clients (which read chunks when they ask for a stream) work unchanged.
 */
import { getTokenizer, type ChatMessage } from '@ctxlab/tokenizers';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { loadCard, type LabModelCard } from './card';
import { generate, releaseSessions, session } from './engine';

export interface ServedModel {
  /** The name clients send as `model`. */
  id: string;
  file: string;
  theta: number;
  /** Longest prompt + completion accepted (vLLM's --max-model-len). */
  maxModelLen: number;
}

export interface LabServerOptions {
  port?: number;
  host?: string;
  threads?: number;
  cardPath?: string;
  /** Defaults: one model per stage, named lab-stage1, lab-stage2, … */
  models?: ServedModel[];
}

/** The request fields both completion routes take after their prompt (decoding is greedy either way). */
const sampling = {
  max_tokens: z.number().int().min(1).max(4096).default(64),
  temperature: z.number().min(0).max(2).optional(),
  stop: z.union([z.string(), z.array(z.string())]).optional(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
};
const chatBody = z.object({
  model: z.string(),
  messages: z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() })).min(1),
  ...sampling,
});
const completionBody = z.object({
  model: z.string(),
  prompt: z.union([z.string(), z.array(z.number().int().min(0))]),
  ...sampling,
});
/** What the completion routes share once the prompt is tokenized. */
type CompletionRequest = Pick<z.infer<typeof chatBody>, 'model' | 'max_tokens' | 'stream' | 'stream_options'>;
const issues = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');

/** vLLM's --max-model-len when none is given. */
const DEFAULT_MAX_MODEL_LEN = 8192;

export function defaultModels(card: LabModelCard & { dir: string }, maxModelLen = DEFAULT_MAX_MODEL_LEN): ServedModel[] {
  return card.stages.map((s) => ({ id: `lab-stage${s.stage}`, file: join(card.dir, s.file), theta: s.ropeTheta, maxModelLen }));
}

/**
 * One lab model from a path, as a serve job hands it over: a lab model directory (model.onnx +
 * config.json, whose rope_theta it is served with unless `theta` overrides it) or a bare .onnx file
 * (then `theta` is required). Throws naming what is missing.
 */
export function servedModelFromPath(path: string, opts: { id?: string; theta?: number; maxModelLen?: number } = {}): ServedModel {
  let file = path;
  let theta = opts.theta;
  if (existsSync(path) && statSync(path).isDirectory()) {
    file = join(path, 'model.onnx');
    if (!existsSync(file)) throw new Error(`${path} is not a lab model directory: it has no model.onnx`);
    const cfgPath = join(path, 'config.json');
    if (theta === undefined) {
      if (!existsSync(cfgPath)) throw new Error(`${path} has no config.json to read rope_theta from; give the theta`);
      const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { rope_theta?: unknown };
      if (typeof cfg.rope_theta !== 'number' || !(cfg.rope_theta > 0)) throw new Error(`${cfgPath} has no positive rope_theta`);
      theta = cfg.rope_theta;
    }
  } else if (!existsSync(path)) throw new Error(`${path} does not exist`);
  else if (theta === undefined) throw new Error(`${path} is a bare ONNX file: give the RoPE theta it is served with`);
  return { id: opts.id ?? basename(path).replace(/\.onnx$/, ''), file, theta, maxModelLen: opts.maxModelLen ?? DEFAULT_MAX_MODEL_LEN };
}

function send(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
const error = (res: ServerResponse, status: number, message: string, type = 'BadRequestError') =>
  send(res, status, { object: 'error', message, type, param: null, code: status });

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 64 * 2 ** 20) throw new Error('request body larger than 64 MiB');
    chunks.push(c as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export async function startLabServer(opts: LabServerOptions = {}) {
  const card = loadCard(opts.cardPath);
  const models = opts.models ?? defaultModels(card);
  const threads = opts.threads ?? 1;
  const tok = getTokenizer('byte');
  const byId = new Map(models.map((m) => [m.id, m]));
  // Create sessions up front, so the first request is not slow and a broken file fails the start.
  await Promise.all(models.map((m) => session(m.file, threads)));

  const complete = async (res: ServerResponse, req: CompletionRequest, ids: number[], chat: boolean) => {
    const { model: modelId, max_tokens: maxTokens } = req;
    const m = byId.get(modelId);
    if (!m) return error(res, 404, `The model \`${modelId}\` does not exist.`, 'NotFoundError');
    if (ids.length + maxTokens > m.maxModelLen) {
      return error(res, 400, `This model's maximum context length is ${m.maxModelLen} tokens. However, you requested ${ids.length + maxTokens} tokens (${ids.length} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`);
    }
    if (req.stream) return stream(res, m, ids, maxTokens, chat, req.stream_options?.include_usage === true);
    const g = await generate(await session(m.file, threads), card, ids, { theta: m.theta, maxNewTokens: maxTokens, stopAtNewline: !chat });
    const text = tok.decode(g.ids);
    const usage = { prompt_tokens: g.promptTokens, completion_tokens: g.ids.length, total_tokens: g.promptTokens + g.ids.length };
    const created = Math.floor(Date.now() / 1000);
    if (chat) {
      send(res, 200, { id: `chatcmpl-${created}`, object: 'chat.completion', created, model: m.id, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: g.finishReason }], usage });
    } else {
      send(res, 200, { id: `cmpl-${created}`, object: 'text_completion', created, model: m.id, choices: [{ index: 0, text, finish_reason: g.finishReason }], usage });
    }
  };

  /**
   * One completion as server-sent events: `data: {chunk}` per decoded token (chat chunks carry
   * `choices[0].delta.content`, completion chunks `choices[0].text`), a last chunk with the
   * finish_reason, the usage chunk (empty choices) when asked for, then `data: [DONE]`.
   */
  const stream = async (res: ServerResponse, m: ServedModel, ids: number[], maxTokens: number, chat: boolean, includeUsage: boolean) => {
    const created = Math.floor(Date.now() / 1000);
    const id = `${chat ? 'chatcmpl' : 'cmpl'}-${created}`;
    const object = chat ? 'chat.completion.chunk' : 'text_completion';
    const event = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
    const chunk = (text: string | null, finishReason: string | null) =>
      event({
        id,
        object,
        created,
        model: m.id,
        choices: [chat ? { index: 0, delta: text === null ? {} : { content: text }, finish_reason: finishReason } : { index: 0, text: text ?? '', logprobs: null, finish_reason: finishReason }],
        ...(includeUsage ? { usage: null } : {}),
      });
    // A client that hangs up stops the decoding rather than letting it run to max_tokens.
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    if (chat) event({ id, object, created, model: m.id, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }], ...(includeUsage ? { usage: null } : {}) });
    const out: number[] = [];
    let sent = '';
    // Bytes of one character can arrive as several tokens: text is sent once it decodes whole.
    const flush = (final: boolean) => {
      const text = tok.decode(out);
      if (!final && text.endsWith('\uFFFD')) return;
      if (text.length > sent.length) chunk(text.slice(sent.length), null);
      sent = text;
    };
    try {
      const g = await generate(await session(m.file, threads), card, ids, {
        theta: m.theta,
        maxNewTokens: maxTokens,
        stopAtNewline: !chat,
        signal: gone.signal,
        onToken: (t) => {
          out.push(t);
          flush(false);
        },
      });
      flush(true);
      chunk(chat ? null : '', g.finishReason);
      if (includeUsage) {
        event({ id, object, created, model: m.id, choices: [], usage: { prompt_tokens: g.promptTokens, completion_tokens: g.ids.length, total_tokens: g.promptTokens + g.ids.length } });
      }
    } catch (e) {
      if (gone.signal.aborted) return;
      // The status line is already sent: the failure travels as an error event, as OpenAI's does.
      event({ error: { message: (e as Error).message, type: 'InternalServerError', param: null, code: 500 } });
    }
    res.end('data: [DONE]\n\n');
  };

  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method === 'GET' && path === '/health') return void res.writeHead(200).end();
      if (req.method === 'GET' && path === '/v1/models') {
        return send(res, 200, { object: 'list', data: models.map((m) => ({ id: m.id, object: 'model', owned_by: 'ctxlab', max_model_len: m.maxModelLen })) });
      }
      if (req.method === 'POST' && path === '/v1/chat/completions') {
        const b = chatBody.safeParse(await readJson(req));
        if (!b.success) return error(res, 400, issues(b.error));
        const ids = tok.encodeChat(b.data.messages as ChatMessage[], { addGenerationPrompt: true });
        return await complete(res, b.data, ids, true);
      }
      if (req.method === 'POST' && path === '/v1/completions') {
        const b = completionBody.safeParse(await readJson(req));
        if (!b.success) return error(res, 400, issues(b.error));
        const ids = typeof b.data.prompt === 'string' ? tok.encode(b.data.prompt) : b.data.prompt;
        if (ids.some((x) => x >= card.vocabSize)) return error(res, 400, `prompt: token ids must be below the vocabulary size ${card.vocabSize}`);
        return await complete(res, b.data, ids, false);
      }
      return error(res, 404, `no route ${req.method} ${path}`, 'NotFoundError');
    } catch (e) {
      if (e instanceof SyntaxError) return error(res, 400, `the request body is not valid JSON: ${e.message}`);
      return error(res, 500, (e as Error).message, 'InternalServerError');
    }
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    models,
    card,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await releaseSessions();
    },
  };
}
