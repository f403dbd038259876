#!/usr/bin/env python3
"""Expected values for libs/capability/src/metrics tests, computed by the OFFICIAL Python code.

Usage (nothing from these repositories is vendored into ctxlab; point at your own checkouts):

  python3 tools/capability/official-metrics.py \
      --longbench  <THUDM/LongBench checkout>/LongBench      # metrics.py, eval.py
      --rouge      <pltrdy/rouge checkout>                    # the `rouge` package (LongBench)
      --rouge-score <dir holding the rouge_score package>     # google-research rouge-score 0.1.2
      --infinitebench <OpenBMB/InfiniteBench checkout>/src    # compute_scores.py
      > libs/capability/src/metrics/official-expected.json

Needs jieba 0.42.1, fuzzywuzzy 0.18 + python-Levenshtein, numpy, six, nltk (Debian:
python3-jieba python3-fuzzywuzzy python3-levenshtein python3-numpy python3-nltk).
compute_scores.py imports `evaluate`, `tqdm` and its `args`; they are stubbed here, `evaluate.load
("rouge")` by the few lines of HF evaluate 0.4.1 metrics/rouge/rouge.py `_compute` that InfiniteBench
uses (RougeScorer with the four default types, score_multi for list references, fmeasure lists).
"""
import argparse
import difflib
import json
import sys
import types

ap = argparse.ArgumentParser()
ap.add_argument("--longbench", required=True)
ap.add_argument("--rouge", required=True)
ap.add_argument("--rouge-score", required=True)
ap.add_argument("--infinitebench", required=True)
args = ap.parse_args()
sys.path[:0] = [args.longbench, args.rouge, args.rouge_score, args.infinitebench]

import jieba  # noqa: E402
import numpy as np  # noqa: E402
from rouge_score import rouge_scorer  # noqa: E402

jieba.setLogLevel(60)


class _EvaluateRouge:
    """HF evaluate 0.4.1 metrics/rouge/rouge.py Rouge._compute (use_aggregator=False path)."""

    def compute(self, predictions, references, rouge_types=None, use_aggregator=True, use_stemmer=False):
        assert not use_aggregator
        rouge_types = rouge_types or ["rouge1", "rouge2", "rougeL", "rougeLsum"]
        multi_ref = isinstance(references[0], list)
        scorer = rouge_scorer.RougeScorer(rouge_types=rouge_types, use_stemmer=use_stemmer, tokenizer=None)
        scores = [scorer.score_multi(r, p) if multi_ref else scorer.score(r, p) for r, p in zip(references, predictions)]
        return {key: [s[key].fmeasure for s in scores] for key in scores[0]}


sys.modules["evaluate"] = types.SimpleNamespace(load=lambda name: _EvaluateRouge())
sys.modules["tqdm"] = types.SimpleNamespace(tqdm=lambda x: x)
sys.modules["args"] = types.SimpleNamespace(parse_args=None)

import eval as lb_eval  # noqa: E402  LongBench/eval.py (imports metrics.py)
import compute_scores as ib  # noqa: E402  InfiniteBench/src/compute_scores.py


def lb_item(dataset, prediction, ground_truths, all_classes):
    """The body of eval.py scorer's loop, one frame deep like scorer (the call depth matters:
    pltrdy's recursive LCS read-back hits RecursionError on long sentences)."""
    score = 0.
    if dataset in ["trec", "triviaqa", "samsum", "lsht"]:
        prediction = prediction.lstrip('\n').split('\n')[0]
    for ground_truth in ground_truths:
        score = max(score, lb_eval.dataset2metric[dataset](prediction, ground_truth, all_classes=all_classes))
    return score


def words(k, prefix="x"):
    return " ".join("%s%d" % (prefix, i) for i in range(k))


TREC = ["Abbreviation", "Expression abbreviated", "Animal", "Organ of body", "Color", "Other entity", "Food",
        "Description", "Manner of an action", "Reason", "Definition of something", "Individual", "City", "Country"]
LSHT = ["农业、农村", "军事", "文学、艺术", "体育", "传媒业", "电子信息产业", "文化、休闲娱乐", "经济", "农业", "艺术"]

LB = [
    # qa_f1_score
    ("narrativeqa", "The cat sat on the mat.", ["A cat sat on a mat"], None),
    ("narrativeqa", "", ["something"], None),
    ("narrativeqa", "Paris, France!", ["Paris", "the capital of France", "France"], None),
    ("hotpotqa", "an apple a day keeps the doctor away", ["The doctor"], None),
    ("2wikimqa", "He was born in 1923 in New-York.", ["1923"], None),
    ("musique", "the the the", ["the"], None),
    ("qasper", "Yes, they do (see Table 3).", ["yes", "Yes, Table 3 shows it"], None),
    ("multifieldqa_en", "Théâtre and the ÉCOLE normale", ["école normale supérieure"], None),
    ("triviaqa", "\n\nGeorge Washington\nQuestion: who was the second?\nAnswer: John Adams", ["George Washington", "Washington"], None),
    ("narrativeqa", "banana banana apple", ["apple banana cherry banana"], None),
    ("hotpotqa", "an_a the1 thea a-b", ["a b the1"], None),
    # qa_f1_zh_score
    ("multifieldqa_zh", "北京是中华人民共和国的首都。", ["中华人民共和国的首都是北京"], None),
    ("multifieldqa_zh", "我不知道。", ["这个问题的答案是三个"], None),
    ("multifieldqa_zh", "答案：2019年，共有三个人参加了比赛", ["2019年", "三个人"], None),
    ("multifieldqa_zh", "", ["北京"], None),
    ("multifieldqa_zh", "GPT-4在2023年发布，COVID-19之后", ["GPT-4于2023年发布"], None),
    # rouge_score
    ("gov_report", "The report finds that the agency failed to meet its goals. It recommends new oversight.",
     ["The agency did not meet its goals, the report finds. GAO recommends that Congress consider new oversight of the agency."], None),
    ("qmsum", "", ["The team discussed the budget."], None),
    ("qmsum", "...", ["The team discussed the budget."], None),
    ("multi_news", "a b c d. b c. a a a", ["a b. c d e. f"], None),
    ("samsum", "\nJohn will bring the cake to the party.\nMary agrees.", ["John is bringing the cake.", "Mary and John talk about the party"], None),
    ("samsum", "Tom  and   Ann\tmeet . . at noon", ["Tom meets Ann at noon."], None),
    ("gov_report", "w " + words(989), ["w"], None),   # 991 _recon frames: just within the recursion limit
    ("gov_report", "w " + words(990), ["w"], None),   # 992 frames: RecursionError -> 0
    ("multi_news", words(600, "y") + " shared", ["shared " + words(395, "z")], None),
    # rouge_zh_score
    ("dureader", "北京是中国的首都，也是一座历史悠久的城市。", ["中国的首都是北京。"], None),
    ("vcsum", "会议讨论了项目进度和下一步的工作安排。", ["本次会议主要讨论了项目的进度，并安排了下一步工作。"], None),
    ("vcsum", "", ["会议讨论了项目进度。"], None),
    ("vcsum", "讨论了GPT-4o和GPT-3.5-turbo的第3-5章", ["会议比较了GPT-3.5-turbo与GPT-4o"], None),
    ("vcsum", "w " + words(988), ["w"], None),  # rouge_zh_score is one frame deeper
    ("vcsum", "w " + words(989), ["w"], None),
    # classification_score
    ("trec", "Individual", ["Individual"], TREC),
    ("trec", "Description\nType: Individual", ["Description"], TREC),
    ("trec", "It is an Animal or a Food", ["Food"], TREC),
    ("trec", "Expression abbreviated", ["Expression abbreviated"], TREC),
    ("trec", "Abbreviation", ["Expression abbreviated"], TREC),
    ("trec", "Other", ["Other entity"], TREC),
    ("lsht", "农业、农村", ["农业、农村"], LSHT),
    ("lsht", "文学、艺术和军事", ["文学、艺术"], LSHT),
    ("lsht", "农业、农村", ["农业"], LSHT),
    # retrieval / count
    ("passage_retrieval_en", "Paragraph 3", ["Paragraph 3"], None),
    ("passage_retrieval_en", "Paragraph 3 or Paragraph 13, maybe 3", ["Paragraph 3"], None),
    ("passage_retrieval_en", "I do not know", ["Paragraph 7"], None),
    ("passage_retrieval_en", "Paragraph ３ or 3", ["Paragraph 3"], None),  # \d is Unicode: 1/2
    ("passage_retrieval_zh", "段落12", ["段落12"], None),
    ("passage_retrieval_zh", "答案是段落5和段落12", ["段落12"], None),
    ("passage_count", "There are 14 unique paragraphs.", ["14"], None),
    ("passage_count", "14, 15 or 14", ["14"], None),
    ("passage_count", "fourteen", ["14"], None),
    # code_sim_score
    ("lcc", "    return x + 1\n", ["    return x + 1"], None),
    ("lcc", "\n\n# compute\n```python\nresult = compute(a, b)\n```", ["result = compute(a, c)"], None),
    ("repobench-p", "// comment\nint y = foo(bar);", ["int x = foo(bar);"], None),
    ("repobench-p", "```\n# only comments\n// here", ["self.assertEqual(a, b)"], None),
    ("lcc", "", [""], None),
    ("lcc", "abcd", ["abcdefgh"], None),       # 100*8/12 = 66.67 -> 67
    ("lcc", "ab", ["abcdefghijklmn"], None),   # 100*4/16 = 25
    ("lcc", "a", ["abcdefg"], None),           # 100*2/8 = 25
    ("lcc", "abc", ["axxxxxx"], None),         # 100*2/10 = 20
    ("lcc", "a", ["abcdefghijklmno"], None),   # 100*2/16 = 12.5 -> 12 (round half to even)
    ("lcc", "ab", ["abxxxxxxxxxxxxxxxxxxxx"], None),  # 100*4/24 = 16.67
    ("lcc", "x😀y", ["x😀z"], None),
    # LongBench-E names
    ("qasper_e", "The cat sat.", ["A cat sat"], None),
]

out = {"longbench": [], "longbench_task": [], "longbench_e": [], "infinitebench": []}
for ds, pred, answers, classes in LB:
    base = ds[:-2] if ds.endswith("_e") else ds
    raw = lb_item(base, pred, answers, classes)
    row = {"dataset": ds, "prediction": pred, "answers": answers, "allClasses": classes, "raw": raw}
    if lb_eval.dataset2metric[base].__name__ == "code_sim_score":
        line = next((l for l in pred.lstrip('\n').split('\n') if '`' not in l and '#' not in l and '//' not in l), "")
        row["difflibRatio"] = 100 if line == answers[0] else (0 if not line or not answers[0] else int(round(100 * difflib.SequenceMatcher(None, line, answers[0]).ratio())))
    out["longbench"].append(row)

# Task scores (eval.py scorer) and LongBench-E buckets (scorer_e) on passage_count, whose item
# scores are fractions right/total; lengths spread over the three buckets.
rng = np.random.default_rng(20240601)
preds, answers, lengths = [], [], []
for _ in range(300):
    total = int(rng.integers(1, 8))
    right = int(rng.integers(0, total + 1))
    preds.append(" ".join(["5"] * right + ["6"] * (total - right)))
    answers.append(["5"])
    lengths.append(int(rng.integers(0, 12000)))
for n in [1, 3, 7, 8, 9, 17, 64, 129, 300]:
    out["longbench_task"].append({"dataset": "passage_count", "predictions": preds[:n], "answers": answers[:n],
                                  "score": lb_eval.scorer("passage_count", preds[:n], answers[:n], None)})
for n in [5, 40, 300]:
    out["longbench_e"].append({"dataset": "passage_count", "predictions": preds[:n], "answers": answers[:n], "lengths": lengths[:n],
                               "scores": {k: None if v != v else v  # an empty bucket is NaN: JSON null
                                          for k, v in lb_eval.scorer_e("passage_count", preds[:n], answers[:n], lengths[:n], None).items()}})

IB = [
    ("longbook_qa_eng", "The answer is the old lighthouse.", ["the lighthouse", "An old lighthouse by the sea"], None),
    ("longbook_qa_eng", "", ["anything"], None),
    ("longbook_qa_eng", "Mrs. Bronwyn is knitting a stocking", ["stockings"], None),
    ("longbook_qa_chn", "他最后去了北京。", ["北京", "去了北京"], None),
    ("longbook_qa_chn", "不知道", ["上海"], None),
    ("longbook_sum_eng", "The hero leaves home.\nHe fights the dragon and returns a changed man.",
     ["A young hero leaves his home, fights a dragon,\nand returns home changed."], None),
    ("longbook_sum_eng", "the cat the cat\nthe dog", ["the cat and the dog\nthe cat"], None),
    ("longbook_sum_eng", "", ["Something happened."], None),
    ("longbook_sum_eng", "Alice meets Bob.", ["Bob meets Alice.", "Alice meets Bob in Paris."], None),
    ("longbook_sum_eng", "Café au lait, naïve résumé 42", ["cafe au lait resume 42"], None),
    ("longbook_choice_eng", "A. Walking Georgie", ["Walking Georgie"], ["Walking Georgie", "Hall Farm", "Snowfield", "Market"]),
    ("longbook_choice_eng", "B. Hall Farm", ["Snowfield", "C"], None),
    ("longbook_choice_eng", "The answer is: C", ["Snowfield"], ["Walking Georgie", "Hall Farm", "Snowfield", "Market"]),
    ("longbook_choice_eng", "I think the correct answer is Snowfield", ["Snowfield"], ["Walking Georgie", "Hall Farm", "Snowfield", "Market"]),
    ("longbook_choice_eng", "Snowfield", ["Snowfield"], ["Walking Georgie", "Hall Farm", "Snowfield", "Market"]),
    ("longbook_choice_eng", "Option D is right", ["Market"], ["Walking Georgie", "Hall Farm", "Snowfield", "Market"]),
    ("longbook_choice_eng", "   ", ["Market"], ["Walking Georgie", "Hall Farm", "Snowfield", "Market"]),
]
for task, pred, ans, options in IB:
    label = ans
    if task == "longbook_choice_eng" and not (len(ans) == 2 and ans[1] in "ABCD"):
        label = [ans[0], "ABCD"[options.index(ans[0])]]  # eval_utils.get_answer
    out["infinitebench"].append({"task": task, "prediction": pred, "answers": ans, "options": options,
                                 "raw": ib.get_score_one(pred, label, task, "model")})

# Python jieba's segmentation of every Chinese text above, to compare with jieba-rs.
zh = sorted({t for r in out["longbench"] if r["dataset"] in ("multifieldqa_zh", "dureader", "vcsum")
             for t in [r["prediction"], *r["answers"]]})
JIEBA_PROBES = ["我来到北京清华大学", "他来到了网易杭研大厦", "永和服装饰品有限公司", "结过婚的和尚未结过婚的",
                "南京市长江大桥", "乒乓球拍卖完了", "做了B超检查", "电话010-12345678", "新冠COVID-19疫情",
                "3.5-4.5倍", "a-1-b-2", "5%-10%的增长", "版本v1.2.3发布", "学习C++和C#", "emoji😀表情符号🎉也要切",
                "  前后有空格  \n换行\t制表符 ", "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ 全角字符"]
out["jieba"] = [{"text": t, "cut": list(jieba.cut(t, cut_all=False))} for t in zh + JIEBA_PROBES if len(t) < 200]
json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
print()
