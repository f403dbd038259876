"""Synthetic value-retrieval samples (NIAH in miniature) over the State of the Union corpus.

Canonical prompt (the byte tokenizer's chat template, `single` layout of ctxlab's NIAH engine,
no system prompt, no instruction); `<s>` is the BOS id 256, `</s>` the EOS id 257:

    <s>### User:\n{haystack with needle}\n\n{question}\n\n### Assistant:\n{answer}</s>

answer   = "The special magic {city} number is: {n}."  (the model restates the needle; the
           platform's value scorer only asks that the 7 digits appear in the answer)

needle   = "The special magic {city} number is: {n}"  (+ "." half the time)
           inserted as "\n{needle}\n" (ctxlab's default wrap) or " {needle}" at a sentence end
question = "What is the special magic {city} number?"

Training also mixes in (see `make_sample`): the question followed by the field's instruction,
and the `chat` layout (optional system message, haystack and question as two user turns).
All lengths are in bytes (= tokens); `prompt_len` counts BOS and everything up to and including
"### Assistant:\n"; the answer and EOS follow it (in a batch, shorter answers are padded with PAD).
"""
from __future__ import annotations

import glob
import os
import re
from typing import List, Optional, Tuple

import numpy as np

BOS, EOS, PAD = 256, 257, 258
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SOTU_DIR = os.path.join(ROOT, "node_modules", "@stdlib", "datasets-sotu", "data")

CITIES = [
    'Chicago', 'Yangon', 'Antananarivo', 'Colombo', 'Almaty', 'Sydney', 'Mexico City', 'Seattle', 'Lagos', 'Amsterdam',
    'Belgrade', 'Cairo', 'Baghdad', 'Damascus', 'Kigali', 'Dakar', 'Sofia', 'Victoria', 'Tashkent', 'Mumbai',
    'Barcelona', 'Amman', 'Toronto', 'Bratislava', 'Johannesburg', 'Thimphu', 'Bangkok', 'Santiago', 'San Francisco', 'Paris',
    'Rabat', 'Copenhagen', 'Madrid', 'Ho Chi Minh City', 'Sarajevo', 'Delhi', 'Istanbul', 'Khartoum', 'Helsinki', 'Doha',
    'Kuala Lumpur', 'Budapest', 'Shanghai', 'Moscow', 'Los Angeles', 'Oslo', 'Berlin', 'Bangalore', 'Tokyo', 'Melbourne',
    'Port Louis', 'Lisbon', 'Nairobi', 'Kampala', 'Lima', 'Maputo', 'Vancouver', 'Dubai', 'Jakarta', 'Yerevan',
    'Beirut', 'Athens', 'Bucharest', 'Brussels', 'Tunis', 'Astana', 'Seoul', 'Buenos Aires', 'Vienna', 'Reykjavik',
]
INSTRUCTION = "Don't give information outside the document or repeat your findings"
SYSTEM = "You are a helpful AI bot that answers questions for a user. Keep your response short and direct"
DIGITS = 7
MAX_WALK = 256  # bytes the insertion point may move back to reach a sentence end
CHARSET = b"abcdefghijklmnopqrstuvwxyz0123456789"
MIN_HAY = 96  # below this haystack size the optional prompt extras are dropped


def needle_text(city: str, n: str, period: bool) -> str:
    return f"The special magic {city} number is: {n}" + ("." if period else "")


def answer_text(city: str, n: str) -> str:
    return f"The special magic {city} number is: {n}."


def question_text(city: str) -> str:
    return f"What is the special magic {city} number?"


class Corpus:
    """All SOTU speeches as one byte array; split 'train' = addresses before 2001, 'eval' = 2001+."""

    def __init__(self, split: str):
        files = sorted(glob.glob(os.path.join(SOTU_DIR, "*.txt")))
        if not files:
            raise FileNotFoundError(f"no SOTU text under {SOTU_DIR}")
        keep = [f for f in files if (int(os.path.basename(f)[:4]) < 2001) == (split == "train")]
        text = "\n\n".join(open(f, encoding="utf-8").read().strip() for f in keep)
        self.bytes = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        raw = self.bytes.tobytes()
        # sentence ends: . ! ? plus closing quotes/brackets, followed by whitespace (as ctxlab's corpus.ts)
        self.ends = np.array([m.end() for m in re.finditer(rb"[.!?][\"')\]]*(?=\s)", raw)], dtype=np.int64)
        self.files = len(keep)

    def __len__(self):
        return len(self.bytes)


def make_sample(corpus: Corpus, prompt_len: int, rng: np.random.Generator, depth: Optional[float] = None,
                canonical: bool = False, copy_spans: int = 0) -> Tuple[List[int], int, str]:
    """Returns (ids, digits_start, number): ids = prompt (prompt_len tokens) + answer + EOS;
    the 7 digits of the number are ids[digits_start:digits_start+7].

    copy_spans > 0 (training aid): that many random strings of 8-20 characters [a-z0-9] are each
    written twice into the haystack (overwriting it; never across the needle); the returned
    `copy_mask` marks the bytes of the second copies from their 3rd character on, which a model
    can only predict by copying (induction). Returned as make_sample.last_copy_mask."""
    city = CITIES[rng.integers(len(CITIES))]
    n = str(rng.integers(1, 10)) + "".join(str(d) for d in rng.integers(0, 10, DIGITS - 1))
    if depth is None:
        depth = float(rng.random())
    if canonical:
        period, nl_wrap, instr, chat, system = False, True, False, False, False
    else:
        period = rng.random() < 0.5
        nl_wrap = rng.random() < 0.5
        instr = rng.random() < 0.3
        chat = rng.random() < 0.25
        system = chat and rng.random() < 0.5
    while True:
        needle = needle_text(city, n, period)
        wrapped = ("\n" + needle + "\n") if nl_wrap else (" " + needle)
        q = question_text(city) + ((" " + INSTRUCTION) if instr else "")
        if chat:
            head = ("### System:\n" + SYSTEM + "\n\n" if system else "") + "### User:\n"
            tail = "\n\n### User:\n" + q + "\n\n### Assistant:\n"
        else:
            head = "### User:\n"
            tail = "\n\n" + q + "\n\n### Assistant:\n"
        head_b, tail_b, nd_b = head.encode(), tail.encode(), wrapped.encode()
        H = prompt_len - 1 - len(head_b) - len(tail_b) - len(nd_b)
        if H >= MIN_HAY or not (system or instr or chat):
            break
        # short prompts: drop the optional extras so that a haystack remains
        if system:
            system = False
        elif instr:
            instr = False
        else:
            chat = False
    if H < 16:
        raise ValueError(f"prompt_len {prompt_len} too short")
    # haystack: H bytes starting just after a random sentence end (skip the whitespace)
    i = int(corpus.ends[rng.integers(len(corpus.ends) - 1)])
    while i < len(corpus.bytes) and corpus.bytes[i] in (32, 10, 9, 13):
        i += 1
    if i + H > len(corpus.bytes):
        i = 0
    hay = corpus.bytes[i:i + H]
    # needle position: depth*H, moved back to the nearest sentence end (bounded walk)
    target = int(round(depth * H))
    lo = np.searchsorted(corpus.ends, i + max(0, target - MAX_WALK), side="left")
    hi = np.searchsorted(corpus.ends, i + target, side="right")
    if target <= 0 or target >= H:
        at = min(max(target, 0), H)
    elif hi > lo:
        at = int(corpus.ends[hi - 1]) - i
    else:
        at = target
    hay_ids = hay.tolist()
    copy_pos = []
    used = []
    for _ in range(copy_spans):
        ln = int(rng.integers(8, 21))
        if H < 4 * ln + 8:
            break
        s_ = rng.choice(np.frombuffer(CHARSET, dtype=np.uint8), ln).tolist()
        for _try in range(10):
            p1 = int(rng.integers(0, H - 2 * ln - 2))
            p2 = int(rng.integers(p1 + ln + 1, H - ln))
            if all(p1 + ln + 1 < u or p1 > v + 1 for u, v in used) and all(p2 + ln + 1 < u or p2 > v + 1 for u, v in used):
                break
        else:
            continue
        used += [(p1, p1 + ln), (p2, p2 + ln)]
        hay_ids[p1:p1 + ln] = s_
        hay_ids[p2:p2 + ln] = s_
        copy_pos.append((p2 + 2, p2 + ln))
    ids = [BOS] + list(head_b) + hay_ids[:at] + list(nd_b) + hay_ids[at:] + list(tail_b)
    assert len(ids) == prompt_len, (len(ids), prompt_len)
    mask = np.zeros(prompt_len, dtype=bool)
    off0 = 1 + len(head_b)
    for a_, b_ in copy_pos:
        for q_ in range(a_, b_):
            mask[off0 + q_ + (len(nd_b) if q_ >= at else 0)] = True
    make_sample.last_copy_mask = mask
    ans = answer_text(city, n)
    digits_start = prompt_len + ans.index(n)
    ids += list(ans.encode()) + [EOS]
    return ids, digits_start, n


def make_batch(corpus: Corpus, prompt_len: int, batch: int, rng: np.random.Generator, **kw):
    """ids [batch, prompt_len + longest answer + 1] (PAD after each EOS), digit starts, numbers."""
    rows, masks = [], []
    for _ in range(batch):
        rows.append(make_sample(corpus, prompt_len, rng, **kw))
        masks.append(make_sample.last_copy_mask)
    T = max(len(r[0]) for r in rows)
    ids = np.full((batch, T), PAD, dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, :len(r[0])] = r[0]
    make_batch.last_copy_mask = np.stack(masks)
    return ids, np.array([r[1] for r in rows]), [r[2] for r in rows]
