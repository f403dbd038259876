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

export const CITIES_EN = [
  'Chicago', 'Yangon', 'Antananarivo', 'Colombo', 'Almaty', 'Sydney', 'Mexico City', 'Seattle', 'Lagos', 'Amsterdam',
  'Belgrade', 'Cairo', 'Baghdad', 'Damascus', 'Kigali', 'Dakar', 'Sofia', 'Victoria', 'Tashkent', 'Mumbai',
  'Barcelona', 'Amman', 'Toronto', 'Bratislava', 'Johannesburg', 'Thimphu', 'Bangkok', 'Santiago', 'San Francisco', 'Paris',
  'Rabat', 'Copenhagen', 'Madrid', 'Ho Chi Minh City', 'Sarajevo', 'Delhi', 'Istanbul', 'Khartoum', 'Helsinki', 'Doha',
  'Kuala Lumpur', 'Budapest', 'Shanghai', 'Moscow', 'Los Angeles', 'Oslo', 'Berlin', 'Bangalore', 'Tokyo', 'Melbourne',
  'Port Louis', 'Lisbon', 'Nairobi', 'Kampala', 'Lima', 'Maputo', 'Vancouver', 'Dubai', 'Jakarta', 'Yerevan',
  'Beirut', 'Athens', 'Bucharest', 'Brussels', 'Tunis', 'Astana', 'Seoul', 'Buenos Aires', 'Vienna', 'Reykjavik',
];
/** The same cities in Chinese, index for index. */
export const CITIES_ZH = [
  '芝加哥', '仰光', '塔那那利佛', '科伦坡', '阿拉木图', '悉尼', '墨西哥城', '西雅图', '拉各斯', '阿姆斯特丹',
  '贝尔格莱德', '开罗', '巴格达', '大马士革', '基加利', '达喀尔', '索非亚', '维多利亚', '塔什干', '孟买',
  '巴塞罗那', '安曼', '多伦多', '布拉迪斯拉发', '约翰内斯堡', '廷布', '曼谷', '圣地亚哥', '旧金山', '巴黎',
  '拉巴特', '哥本哈根', '马德里', '胡志明市', '萨拉热窝', '德里', '伊斯坦布尔', '喀土穆', '赫尔辛基', '多哈',
  '吉隆坡', '布达佩斯', '上海', '莫斯科', '洛杉矶', '奥斯陆', '柏林', '班加罗尔', '东京', '墨尔本',
  '路易港', '里斯本', '内罗毕', '坎帕拉', '利马', '马普托', '温哥华', '迪拜', '雅加达', '埃里温',
  '贝鲁特', '雅典', '布加勒斯特', '布鲁塞尔', '突尼斯', '阿斯塔纳', '首尔', '布宜诺斯艾利斯', '维也纳', '雷克雅未克',
];

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
