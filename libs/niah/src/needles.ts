import type { NiahLanguage, NiahScorerName, NiahVariant } from '@ctxlab/contracts';
import { NiahError } from './errors';
import type { Rng } from './rng';

// The field's exact strings (gkamradt's LLMTest_NeedleInAHaystack, as reproduced by 360Zhinao).
export const ORIGINAL_NEEDLE = 'The best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day.';
export const ORIGINAL_QUESTION = 'What is the best thing to do in San Francisco?';
export const ORIGINAL_INSTRUCTION = "Don't give information outside the document or repeat your findings";
/** gkamradt's OpenAI provider system message. */
export const ORIGINAL_SYSTEM_PROMPT = 'You are a helpful AI bot that answers questions for a user. Keep your response short and direct';

export const valueNeedle = (city: string, n: string) => `The special magic ${city} number is: ${n}`;
export const valueQuestion = (city: string) => `What is the special magic ${city} number?`;
export const valueNeedleZh = (city: string, n: string) => `${city}特有的魔法数字是：${n}。`;
export const valueQuestionZh = (city: string) => `${city}特有的魔法数字是多少？`;
export const INSTRUCTION_ZH = '仅基于上述文档，不要给出上述文档以外的信息。';

/**
 * The Chinese story needle: 王莽 works for 刘秀 (ctxlab's own wording of 360Zhinao's idea; the
 * score only asks whether 刘秀 is named). The question is the field's exact string.
 */
export const ZH_STORY_NEEDLE =
  '王莽是城东一家五金店的伙计。他每天天不亮就赶到店里，清扫门面，整理货架，把钉子、铰链和锁头分门别类摆好。' +
  '这家店的老板是刘秀。刘秀为人精明又挑剔，常在打烊后逐件检查王莽当天做的活，挑出毛病就扣他的工钱。' +
  '王莽虽然常被挑剔，却从不抱怨，只是更加用心地干活。';
export const ZH_STORY_QUESTION = '王莽在谁的手下工作？';
/** 360Zhinao's reference answer for the F1 fallback. */
export const ZH_STORY_REFERENCE = '王莽在刘秀的手下工作。';

/** gkamradt's multi-needle example: secret pizza ingredients, spread from the depth to the end. */
export const PIZZA_INGREDIENTS = [
  'Figs',
  'Prosciutto',
  'Goat cheese',
  'Arugula',
  'Wildflower honey',
  'Pistachios',
  'Smoked mozzarella',
  'Caramelized onions',
  'Black truffle',
  'Roasted garlic',
  'Sun-dried tomatoes',
  'Fresh basil',
];
export const pizzaNeedle = (ingredient: string) => `${ingredient} ${/s$/.test(ingredient) ? 'are' : 'is'} one of the secret ingredients needed to build the perfect pizza.`;
export const PIZZA_QUESTION = 'What are the secret ingredients needed to build the perfect pizza?';

/** RULER-style key/value needles. */
export const rulerNeedle = (key: string, value: string) => `One of the special magic numbers for ${key} is: ${value}.`;
export const rulerQuestionOne = (key: string) => `What is the special magic number for ${key} mentioned in the provided text?`;
export const rulerQuestionAll = (keys: string[]) =>
  `What are all the special magic numbers for ${keys.length === 1 ? keys[0] : keys.length === 2 ? `${keys[0]} and ${keys[1]}` : `${keys.slice(0, -1).join(', ')}, and ${keys.at(-1)}`} mentioned in the provided text?`;

/** The value needles' cities: English and Chinese names, one entry per city. */
const CITIES: readonly (readonly [en: string, zh: string])[] = [
  ['Chicago', '芝加哥'], ['Yangon', '仰光'], ['Antananarivo', '塔那那利佛'], ['Colombo', '科伦坡'], ['Almaty', '阿拉木图'], ['Sydney', '悉尼'], ['Mexico City', '墨西哥城'],
  ['Seattle', '西雅图'], ['Lagos', '拉各斯'], ['Amsterdam', '阿姆斯特丹'], ['Belgrade', '贝尔格莱德'], ['Cairo', '开罗'], ['Baghdad', '巴格达'], ['Damascus', '大马士革'],
  ['Kigali', '基加利'], ['Dakar', '达喀尔'], ['Sofia', '索非亚'], ['Victoria', '维多利亚'], ['Tashkent', '塔什干'], ['Mumbai', '孟买'], ['Barcelona', '巴塞罗那'],
  ['Amman', '安曼'], ['Toronto', '多伦多'], ['Bratislava', '布拉迪斯拉发'], ['Johannesburg', '约翰内斯堡'], ['Thimphu', '廷布'], ['Bangkok', '曼谷'], ['Santiago', '圣地亚哥'],
  ['San Francisco', '旧金山'], ['Paris', '巴黎'], ['Rabat', '拉巴特'], ['Copenhagen', '哥本哈根'], ['Madrid', '马德里'], ['Ho Chi Minh City', '胡志明市'], ['Sarajevo', '萨拉热窝'],
  ['Delhi', '德里'], ['Istanbul', '伊斯坦布尔'], ['Khartoum', '喀土穆'], ['Helsinki', '赫尔辛基'], ['Doha', '多哈'], ['Kuala Lumpur', '吉隆坡'], ['Budapest', '布达佩斯'],
  ['Shanghai', '上海'], ['Moscow', '莫斯科'], ['Los Angeles', '洛杉矶'], ['Oslo', '奥斯陆'], ['Berlin', '柏林'], ['Bangalore', '班加罗尔'], ['Tokyo', '东京'],
  ['Melbourne', '墨尔本'], ['Port Louis', '路易港'], ['Lisbon', '里斯本'], ['Nairobi', '内罗毕'], ['Kampala', '坎帕拉'], ['Lima', '利马'], ['Maputo', '马普托'],
  ['Vancouver', '温哥华'], ['Dubai', '迪拜'], ['Jakarta', '雅加达'], ['Yerevan', '埃里温'], ['Beirut', '贝鲁特'], ['Athens', '雅典'], ['Bucharest', '布加勒斯特'],
  ['Brussels', '布鲁塞尔'], ['Tunis', '突尼斯'], ['Astana', '阿斯塔纳'], ['Seoul', '首尔'], ['Buenos Aires', '布宜诺斯艾利斯'], ['Vienna', '维也纳'], ['Reykjavik', '雷克雅未克'],
];
export const CITIES_EN = CITIES.map(([en]) => en);
/** The same cities in Chinese, index for index. */
export const CITIES_ZH = CITIES.map(([, zh]) => zh);

const KEY_ADJECTIVES = ['amber', 'brave', 'calm', 'dusty', 'eager', 'fuzzy', 'gentle', 'hollow', 'icy', 'jolly', 'keen', 'lucky', 'misty', 'noisy', 'odd', 'proud', 'quiet', 'rusty', 'silent', 'tidy', 'upbeat', 'vivid', 'wary', 'young', 'zesty'];
const KEY_NOUNS = ['anchor', 'badger', 'canyon', 'dolphin', 'ember', 'falcon', 'glacier', 'harbor', 'island', 'jungle', 'kettle', 'lantern', 'meadow', 'nectar', 'orchard', 'pebble', 'quarry', 'river', 'saddle', 'thistle', 'umbrella', 'violin', 'walnut', 'yarrow', 'zephyr'];

/** What a cell asks and how its answer is judged: everything but the haystack. */
export interface NeedleSet {
  /** Texts inserted into the haystack, in order of depth (empty for the negative control). */
  needles: string[];
  /** Depth of each needle as a fraction of the haystack. */
  depths: number[];
  question: string;
  instruction: string;
  expected: string[];
  scorer: NiahScorerName;
  /** Values that must NOT appear (negative control) and the digit count of made-up numbers. */
  forbidden?: string[];
  digits?: number;
}

export interface NeedleParams {
  variant: NiahVariant;
  language: NiahLanguage;
  digits: number;
  needles: number;
  queries: number;
  custom?: { needle: string; question: string; instruction: string; expected: string[] };
}

/** Depths for k needles: the first at `depth`, the rest evenly spaced to the end (gkamradt's multi-needle). */
export function spreadDepths(depth: number, k: number): number[] {
  const step = (1 - depth) / k;
  return Array.from({ length: k }, (_v, i) => Math.min(1, depth + i * step));
}

function keys(rng: Rng, k: number): string[] {
  const out = new Set<string>();
  while (out.size < k) out.add(`${rng.pick(KEY_ADJECTIVES)}-${rng.pick(KEY_NOUNS)}`);
  return [...out];
}

function distinctNumbers(rng: Rng, k: number, digits: number): string[] {
  const out = new Set<string>();
  while (out.size < k) out.add(rng.digits(digits));
  return [...out];
}

export function makeNeedleSet(p: NeedleParams, depth: number, rng: Rng): NeedleSet {
  const zh = p.language === 'zh';
  const instruction = zh ? INSTRUCTION_ZH : ORIGINAL_INSTRUCTION;
  const enOnly = () => {
    if (zh) throw new NiahError('UNSUPPORTED_VARIANT', `variant ${p.variant} is English-only`);
  };
  switch (p.variant) {
    case 'original':
      enOnly();
      return { needles: [ORIGINAL_NEEDLE], depths: [depth], question: ORIGINAL_QUESTION, instruction, expected: [ORIGINAL_NEEDLE], scorer: 'zhinao-en' };
    case 'zh-story':
      return { needles: [ZH_STORY_NEEDLE], depths: [depth], question: ZH_STORY_QUESTION, instruction: INSTRUCTION_ZH, expected: ['刘秀'], scorer: 'zhinao-zh' };
    case 'value': {
      const i = rng.int(0, CITIES_EN.length - 1);
      const n = rng.digits(p.digits);
      return zh
        ? { needles: [valueNeedleZh(CITIES_ZH[i]!, n)], depths: [depth], question: valueQuestionZh(CITIES_ZH[i]!), instruction, expected: [n], scorer: 'value' }
        : { needles: [valueNeedle(CITIES_EN[i]!, n)], depths: [depth], question: valueQuestion(CITIES_EN[i]!), instruction, expected: [n], scorer: 'value' };
    }
    case 'negative': {
      const i = rng.int(0, CITIES_EN.length - 1);
      return {
        needles: [],
        depths: [],
        question: zh ? valueQuestionZh(CITIES_ZH[i]!) : valueQuestion(CITIES_EN[i]!),
        instruction,
        expected: [],
        scorer: 'negative',
        forbidden: [],
        digits: p.digits,
      };
    }
    case 'multi-needle': {
      enOnly();
      const k = Math.min(p.needles, PIZZA_INGREDIENTS.length);
      const ingredients = PIZZA_INGREDIENTS.slice(0, k);
      return {
        needles: ingredients.map(pizzaNeedle),
        depths: spreadDepths(depth, k),
        question: PIZZA_QUESTION,
        instruction,
        expected: ingredients.map((s) => s.toLowerCase()),
        scorer: 'string-match-all',
      };
    }
    case 'multi-key': {
      enOnly();
      const ks = keys(rng, p.needles);
      const vs = distinctNumbers(rng, p.needles, p.digits);
      // The asked key sits at the cell's depth; the distractors at seeded random depths.
      const depths = [depth, ...ks.slice(1).map(() => rng.next())];
      const order = depths.map((_d, i) => i).sort((a, b) => depths[a]! - depths[b]! || a - b);
      return {
        needles: order.map((i) => rulerNeedle(ks[i]!, vs[i]!)),
        depths: order.map((i) => depths[i]!),
        question: rulerQuestionOne(ks[0]!),
        instruction,
        expected: [vs[0]!],
        scorer: 'string-match-all',
      };
    }
    case 'multi-value': {
      enOnly();
      const [key] = keys(rng, 1) as [string];
      const vs = distinctNumbers(rng, p.needles, p.digits);
      return {
        needles: vs.map((v) => rulerNeedle(key, v)),
        depths: spreadDepths(depth, p.needles),
        question: rulerQuestionAll([key]),
        instruction,
        expected: vs,
        scorer: 'string-match-all',
      };
    }
    case 'multi-query': {
      enOnly();
      const k = Math.max(p.needles, p.queries);
      const ks = keys(rng, k);
      const vs = distinctNumbers(rng, k, p.digits);
      return {
        needles: ks.map((key, i) => rulerNeedle(key, vs[i]!)),
        depths: spreadDepths(depth, k),
        question: rulerQuestionAll(ks.slice(0, p.queries)),
        instruction,
        expected: vs.slice(0, p.queries),
        scorer: 'string-match-all',
      };
    }
    case 'custom': {
      const c = p.custom;
      if (!c) throw new NiahError('INVALID_SPEC', 'the custom variant needs a needle, question and expected answers');
      return { needles: [c.needle], depths: [depth], question: c.question, instruction: c.instruction, expected: c.expected, scorer: 'string-match-all' };
    }
  }
}
