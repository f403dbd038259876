import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getTokenizer, type ChatMessage, type Tokenizer } from '@ctxlab/tokenizers';

/**
 * A real OpenAI-compatible HTTP server on 127.0.0.1 standing in for a GPU model server (vLLM)
 * in tests: /v1/models, /v1/chat/completions, /v1/completions (text or token-id prompts) and
 * /health, with vLLM's error format. It answers NIAH prompts by actually finding the needle in
 * the prompt, so scores mean something, and can be told to fail the ways real servers do:
 * HTTP errors (429 with Retry-After, 500s), hanging, truncated bodies, connection resets,
 * invalid JSON, wrong response shapes. "Blind spots" make it miss needles by length or depth.
 *
 * Logprobs, with the request fields vLLM takes and deterministic synthetic numbers:
 *  - /v1/completions `echo: true` + `logprobs: N` (`max_tokens: 0` allowed with echo): the prompt's
 *    tokens (the tokenizer's, as usage counts them) in OpenAI's legacy shape, the first token's
 *    logprob and top map null as vLLM sends them, token i's logprob `syntheticLogprob(ids, i)` (its
 *    top map holds the token alone); then the reply's tokens.
 *  - `logprobs: N` without echo, and /v1/chat/completions `logprobs: true` + `top_logprobs: N`: each
 *    reply token at REPLY_TOKEN_LOGPROB, heading its N alternatives (as a greedy reply token does),
 *    the others at −1, −2, … (tokens id+1, id+2, …).
 *  - setTopLogprobs(top): the first reply token's alternatives are exactly `top` (e.g. " A"…" D"
 *    for MMLU), best first, and the reply is the best one's token.
 * Fault injection applies to these requests as to any other; `no-logprobs` answers without them.
 */

/** The synthetic logprob of prompt token i (i ≥ 1) given the prompt's ids: in [−2.46, −0.5], a function of (ids[i−1], ids[i]). */
export function syntheticLogprob(ids: readonly number[], i: number): number {
  return -(0.5 + ((ids[i]! * 7 + ids[i - 1]! * 13) % 50) / 25);
}
/** Each reply token's synthetic logprob. */
export const REPLY_TOKEN_LOGPROB = -0.125;
/** vLLM's default --max-logprobs. */
const MAX_LOGPROBS = 20;

export type TestServerBehaviour =
  | { kind: 'answer' }
  | { kind: 'delay'; ms: number }
  | { kind: 'status'; status: number; retryAfterSeconds?: number; message?: string }
  | { kind: 'hang' }
  | { kind: 'truncate' }
  | { kind: 'reset' }
  | { kind: 'invalid-json' }
  | { kind: 'wrong-shape' }
  /** Answers, but with `logprobs: null` whatever was asked: an endpoint that ignores logprobs. */
  | { kind: 'no-logprobs' };

export interface BlindSpot {
  /** The model misses needles in prompts of at least this many tokens… */
  minTokens?: number;
  maxTokens?: number;
  /** …and/or whose needle sits between these depths (fraction of the prompt's characters). */
  minDepth?: number;
  maxDepth?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
  receivedAt: number;
  behaviour: TestServerBehaviour['kind'];
  promptTokens?: number;
}

export type BehaviourFn = (req: { method: string; path: string; body: unknown; index: number }) => TestServerBehaviour;

export interface OpenAITestServerOptions {
  port?: number;
  model?: string;
  /** Tokenizer for usage counts and token-id prompts. Default 'llama3'. */
  tokenizer?: 'llama3' | 'byte';
  /** Rejects prompts longer than this, like vLLM's --max-model-len. */
  maxModelLen?: number;
  blindSpots?: BlindSpot[];
  /** Replaces the built-in NIAH answerer. */
  answer?: (prompt: string) => string;
  behaviour?: TestServerBehaviour | BehaviourFn;
}

export interface OpenAITestServer {
  /** e.g. http://127.0.0.1:40123 (append /v1 for the API base, or let the client do it). */
  url: string;
  model: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** The default behaviour for requests not covered by script(). */
  setBehaviour(b: TestServerBehaviour | BehaviourFn): void;
  /** Behaviours for the next generation requests, used once each, in order. */
  script(...behaviours: TestServerBehaviour[]): void;
  /** The first reply token's top logprobs from now on (best first once sorted); null: the synthetic ones. */
  setTopLogprobs(top: readonly { token: string; logprob: number }[] | null): void;
  close(): Promise<void>;
}

const NOT_FOUND_ANSWER = 'I could not find that in the document.';

/** What a model that reads perfectly would answer to a NIAH prompt; undefined if no needle is found. */
export function answerNiahPrompt(prompt: string): { answer: string; needleAt: number } | undefined {
  const last = (re: RegExp) => {
    let m: RegExpExecArray | null = null;
    for (const x of prompt.matchAll(re)) m = x;
    return m;
  };
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  const ruler = last(/What (?:is|are all) the special magic numbers? for (.+?) mentioned in the provided text\?/g);
  if (ruler) {
    const keys = ruler[1]!.split(/, and |, | and /);
    const found: string[] = [];
    let at = -1;
    for (const key of keys) {
      for (const m of prompt.matchAll(new RegExp(`One of the special magic numbers for ${escape(key)} is: (\\d+)`, 'g'))) {
        found.push(m[1]!);
        if (at < 0) at = m.index;
      }
    }
    return found.length ? { answer: `The special magic numbers are: ${found.join(', ')}.`, needleAt: at } : undefined;
  }
  const value = last(/What is the special magic (.+?) number\?/g);
  if (value) {
    const m = new RegExp(`The special magic ${escape(value[1]!)} number is: (\\d+)`).exec(prompt);
    return m ? { answer: `The special magic ${value[1]} number is: ${m[1]}.`, needleAt: m.index } : undefined;
  }
  const valueZh = last(/([^\s：。，？]+?)特有的魔法数字是多少？/g);
  if (valueZh) {
    const m = new RegExp(`${escape(valueZh[1]!)}特有的魔法数字是：(\\d+)`).exec(prompt);
    return m ? { answer: `${valueZh[1]}特有的魔法数字是${m[1]}。`, needleAt: m.index } : undefined;
  }
  if (prompt.includes('王莽在谁的手下工作')) {
    const at = prompt.indexOf('老板是刘秀');
    return at >= 0 ? { answer: '王莽在刘秀的手下工作。', needleAt: at } : undefined;
  }
  if (prompt.includes('What are the secret ingredients needed to build the perfect pizza?')) {
    const found = [...prompt.matchAll(/([A-Z][\w -]*?) (?:is|are) one of the secret ingredients needed to build the perfect pizza\./g)];
    return found.length ? { answer: `The secret ingredients are ${found.map((m) => m[1]!.toLowerCase()).join(', ')}.`, needleAt: found[0]!.index } : undefined;
  }
  if (prompt.includes('What is the best thing to do in San Francisco?')) {
    const needle = 'The best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day.';
    const at = prompt.indexOf(needle);
    return at >= 0 ? { answer: needle, needleAt: at } : undefined;
  }
  return undefined;
}

function isBlind(spots: readonly BlindSpot[], tokens: number, depth: number): boolean {
  return spots.some(
    (s) =>
      (s.minTokens === undefined || tokens >= s.minTokens) &&
      (s.maxTokens === undefined || tokens <= s.maxTokens) &&
      (s.minDepth === undefined || depth >= s.minDepth) &&
      (s.maxDepth === undefined || depth <= s.maxDepth),
  );
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

function openAIError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, param: string | null = null): void {
  const type = status === 404 ? 'NotFoundError' : status === 429 ? 'RateLimitError' : status >= 500 ? 'InternalServerError' : 'BadRequestError';
  sendJson(res, status, { object: 'error', message, type, param, code: status, error: { message, type, param, code: status } }, headers);
}

export async function startOpenAITestServer(opts: OpenAITestServerOptions = {}): Promise<OpenAITestServer> {
  const model = opts.model ?? 'ctxlab-test-model';
  const tokenizer: Tokenizer = getTokenizer(opts.tokenizer ?? 'llama3');
  const requests: RecordedRequest[] = [];
  const queue: TestServerBehaviour[] = [];
  let behaviour: TestServerBehaviour | BehaviourFn = opts.behaviour ?? { kind: 'answer' };
  let generationIndex = 0;
  let firstTop: { token: string; logprob: number }[] | null = null;
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  const created = Math.floor(Date.now() / 1000);

  const answerFor = (prompt: string, promptTokens: number): string => {
    if (opts.answer) return opts.answer(prompt);
    const found = answerNiahPrompt(prompt);
    if (!found) return NOT_FOUND_ANSWER;
    if (isBlind(opts.blindSpots ?? [], promptTokens, found.needleAt / Math.max(1, prompt.length))) return NOT_FOUND_ANSWER;
    return found.answer;
  };

  const server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const raw = req.method === 'POST' ? await readBody(req) : '';
      let body: unknown = undefined;
      if (raw) {
        try {
          body = JSON.parse(raw);
        } catch {
          requests.push({ method: req.method ?? '', path, body: raw, receivedAt: Date.now(), behaviour: 'answer' });
          return openAIError(res, 400, 'request body is not valid JSON');
        }
      }
      if (req.method === 'GET' && path === '/health') {
        requests.push({ method: 'GET', path, body, receivedAt: Date.now(), behaviour: 'answer' });
        res.writeHead(200, { 'content-length': '0' });
        return res.end();
      }
      if (req.method === 'GET' && path === '/v1/models') {
        requests.push({ method: 'GET', path, body, receivedAt: Date.now(), behaviour: 'answer' });
        return sendJson(res, 200, { object: 'list', data: [{ id: model, object: 'model', created, owned_by: 'ctxlab', max_model_len: opts.maxModelLen ?? null }] });
      }
      const isChat = path === '/v1/chat/completions';
      const isCompletion = path === '/v1/completions';
      if (req.method !== 'POST' || (!isChat && !isCompletion)) {
        requests.push({ method: req.method ?? '', path, body, receivedAt: Date.now(), behaviour: 'answer' });
        return openAIError(res, 404, `no route for ${req.method} ${path}`);
      }
      const index = generationIndex++;
      const b = queue.shift() ?? (typeof behaviour === 'function' ? behaviour({ method: req.method, path, body, index }) : behaviour);
      const record: RecordedRequest = { method: req.method, path, body, receivedAt: Date.now(), behaviour: b.kind };
      requests.push(record);

      if (b.kind === 'reset') return req.socket.destroy();
      if (b.kind === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (b.kind === 'status') {
        return openAIError(res, b.status, b.message ?? `scripted failure ${b.status}`, b.retryAfterSeconds !== undefined ? { 'retry-after': String(b.retryAfterSeconds) } : {});
      }
      if (b.kind === 'invalid-json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"id": "cmpl-broken", "choices": [');
      }
      if (b.kind === 'wrong-shape') return sendJson(res, 200, { id: 'cmpl-odd', object: isChat ? 'chat.completion' : 'text_completion', choices: [] });

      // A real request: validate like vLLM, then answer.
      const o = (body ?? {}) as Record<string, unknown>;
      if (o.model !== model) return openAIError(res, 404, `The model \`${String(o.model)}\` does not exist.`);
      let prompt: string;
      let promptTokens: number;
      let promptIds: readonly number[] = [];
      if (isChat) {
        const msgs = o.messages;
        if (!Array.isArray(msgs) || msgs.some((m) => typeof m?.role !== 'string' || typeof m?.content !== 'string')) {
          return openAIError(res, 400, 'messages must be a list of {role, content} objects');
        }
        prompt = tokenizer.applyChatTemplate(msgs as ChatMessage[]);
        promptTokens = tokenizer.encodeChat(msgs as ChatMessage[]).length;
      } else if (typeof o.prompt === 'string') {
        prompt = o.prompt;
        promptIds = tokenizer.encode(o.prompt, { allowedSpecial: 'all', addBos: !o.prompt.startsWith(tokenizer.special.bos.text) });
        promptTokens = promptIds.length;
      } else if (Array.isArray(o.prompt) && o.prompt.every((t) => Number.isInteger(t) && t >= 0 && t < tokenizer.vocabSize)) {
        prompt = tokenizer.decode(o.prompt as number[]);
        promptIds = o.prompt as number[];
        promptTokens = o.prompt.length;
      } else return openAIError(res, 400, 'prompt must be a string or a list of token ids');
      record.promptTokens = promptTokens;
      const maxTokens = typeof o.max_tokens === 'number' ? o.max_tokens : 16;
      // The logprob fields, refused as vLLM refuses them (see libs/inference/src/server.ts logprobRefusal for the sources).
      const echo = !isChat && o.echo === true;
      const count = (v: unknown) => (v === undefined || v === null ? null : v);
      const n = isChat ? (o.logprobs === true ? (count(o.top_logprobs) ?? 0) : null) : count(o.logprobs);
      if (isChat && count(o.top_logprobs) !== null && o.top_logprobs !== 0 && o.logprobs !== true) {
        return openAIError(res, 400, 'when using `top_logprobs`, `logprobs` must be set to true.', {}, 'top_logprobs');
      }
      if (n !== null && (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_LOGPROBS)) {
        const field = isChat ? 'top_logprobs' : 'logprobs';
        return openAIError(res, 400, typeof n === 'number' && n > MAX_LOGPROBS ? `Requested sample logprobs of ${n}, which is greater than max allowed: ${MAX_LOGPROBS}` : `\`${field}\` must be an integer in [0, ${MAX_LOGPROBS}]`, {}, field);
      }
      if (!(maxTokens >= 1 || (echo && maxTokens === 0))) return openAIError(res, 400, `max_tokens must be at least 1, got ${maxTokens}.`, {}, 'max_tokens');
      if (opts.maxModelLen !== undefined && promptTokens + maxTokens > opts.maxModelLen) {
        return openAIError(
          res,
          400,
          `This model's maximum context length is ${opts.maxModelLen} tokens. However, you requested ${promptTokens + maxTokens} tokens (${promptTokens} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`,
        );
      }
      if (b.kind === 'delay') await new Promise((r) => setTimeout(r, b.ms));
      const top = n !== null && firstTop ? [...firstTop].sort((a, b) => b.logprob - a.logprob) : null;
      // With scripted top logprobs the reply is the best one's token; echo with max_tokens 0 replies nothing.
      const answer = maxTokens === 0 ? '' : top?.length ? top[0]!.token : answerFor(prompt, promptTokens);
      const replyIds = tokenizer.encode(answer);
      const completionTokens = replyIds.length;
      const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
      const reply = (): { token: string; logprob: number; top: { token: string; logprob: number }[] }[] => {
        if (top?.length) return [{ token: top[0]!.token, logprob: top[0]!.logprob, top: top.slice(0, n!) }];
        return replyIds.map((id) => ({
          token: tokenizer.decode([id]),
          logprob: REPLY_TOKEN_LOGPROB,
          top: Array.from({ length: n! }, (_, k) => ({ token: tokenizer.decode([(id + k) % tokenizer.vocabSize]), logprob: k === 0 ? REPLY_TOKEN_LOGPROB : -k })),
        }));
      };
      const noLogprobs = n === null || b.kind === 'no-logprobs';
      const chatLogprobs = () => ({
        content: reply().map((t) => ({ token: t.token, logprob: t.logprob, bytes: [...Buffer.from(t.token)], top_logprobs: t.top.map((a) => ({ ...a, bytes: [...Buffer.from(a.token)] })) })),
      });
      const legacyLogprobs = () => {
        const rows: { token: string; logprob: number | null; top: Record<string, number> | null }[] = [];
        if (echo) {
          promptIds.forEach((id, i) => {
            const token = tokenizer.decode([id]);
            const lp = i === 0 ? null : syntheticLogprob(promptIds, i);
            rows.push({ token, logprob: lp, top: lp === null ? null : { [token]: lp } });
          });
        }
        for (const t of reply()) rows.push({ token: t.token, logprob: t.logprob, top: Object.fromEntries([[t.token, t.logprob], ...t.top.map((a) => [a.token, a.logprob])]) });
        let offset = 0;
        return {
          tokens: rows.map((r) => r.token),
          token_logprobs: rows.map((r) => r.logprob),
          top_logprobs: rows.map((r) => r.top),
          text_offset: rows.map((r) => ((offset += [...r.token].length), offset - [...r.token].length)),
        };
      };
      const payload = isChat
        ? { id: `chatcmpl-${index}`, object: 'chat.completion', created, model, choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop', logprobs: noLogprobs ? null : chatLogprobs() }], usage }
        : {
            id: `cmpl-${index}`,
            object: 'text_completion',
            created,
            model,
            choices: [{ index: 0, text: echo ? prompt + answer : answer, finish_reason: maxTokens === 0 ? 'length' : 'stop', logprobs: noLogprobs ? null : legacyLogprobs() }],
            usage,
          };
      if (b.kind === 'truncate') {
        const text = JSON.stringify(payload);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
        res.write(text.slice(0, Math.floor(text.length / 2)));
        return setTimeout(() => res.socket?.destroy(), 5);
      }
      sendJson(res, 200, payload);
    })().catch((e: unknown) => {
      if (!res.headersSent) openAIError(res, 500, `test server error: ${(e as Error).message}`);
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    model,
    requests,
    setBehaviour: (b) => {
      behaviour = b;
    },
    script: (...bs) => {
      queue.push(...bs);
    },
    setTopLogprobs: (top) => {
      firstTop = top ? top.map((t) => ({ ...t })) : null;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of hanging) r.destroy();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
