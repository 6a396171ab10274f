#!/usr/bin/env python
"""Benchmark the offline concept extractor on Inspec, next to YAKE under the same scorer.

Usage (from the repository root)::

    .venv/bin/python bench/concepts_inspec.py                 # all 2000 documents
    .venv/bin/python bench/concepts_inspec.py --limit 200 --jobs 2
    .venv/bin/python bench/concepts_inspec.py path/to/Inspec.zip

The zip holds ``Inspec/docsutf8/<id>.txt`` (abstracts) and ``Inspec/keys/<id>.key`` (one
gold phrase a line, with stray tabs and CRLFs).  Documents are taken in numeric id order.

Scorer (identical for both systems):
* a phrase is normalised by lower-casing, splitting into ``[a-z0-9]+`` tokens and Porter
  stemming each token (``nltk.stem.PorterStemmer``, which needs no downloaded data);
* the top 10 predictions are normalised and de-duplicated (order kept);
* precision = matches / distinct predictions, recall = matches / distinct gold phrases
  (all gold phrases, including the ~38% that do not occur in the text), F1 = 0 when
  nothing matches; F1@10 is averaged over documents.
A second line repeats the scores with gold phrases absent from the text removed.

Our extractor's weights were fitted on documents 1-1000 (ids in numeric order); the
``held-out`` line reports the rest, which the tuning never saw.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

DEFAULT_ZIP = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "datasets", "Inspec.zip"))
DEV_DOCS = 1000  # the first 1000 documents (numeric id order) were used for tuning
TOP = 10

_TOKEN_RE = re.compile(r"[a-z0-9]+")
_stemmer = None


def normalise(phrase: str) -> str:
    global _stemmer
    if _stemmer is None:
        from nltk.stem import PorterStemmer

        _stemmer = PorterStemmer()
    return " ".join(_stemmer.stem(tok) for tok in _TOKEN_RE.findall(phrase.lower()))


def f1_at_k(predicted: list[str], gold: set[str], k: int = TOP) -> float:
    preds = [p for p in dict.fromkeys(normalise(x) for x in predicted[:k]) if p]
    if not preds or not gold:
        return 0.0
    tp = len(set(preds) & gold)
    if tp == 0:
        return 0.0
    precision, recall = tp / len(preds), tp / len(gold)
    return 2 * precision * recall / (precision + recall)


def load_inspec(path: str) -> list[tuple[str, str, list[str]]]:
    """[(doc id, text, gold phrases)] in numeric id order."""
    docs = []
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        for name in names:
            m = re.fullmatch(r"Inspec/docsutf8/(.+)\.txt", name)
            if not m:
                continue
            doc_id = m.group(1)
            key_name = f"Inspec/keys/{doc_id}.key"
            if key_name not in names:
                continue
            text = zf.read(name).decode("utf-8")
            keys = zf.read(key_name).decode("utf-8")
            gold = [" ".join(line.split()) for line in keys.splitlines() if line.strip()]
            docs.append((doc_id, text, gold))
    docs.sort(key=lambda d: (int(d[0]) if d[0].isdigit() else 0, d[0]))
    return docs


_provider = None


def local_provider():
    """The local provider, Django set up on first use (once per worker process)."""
    global _provider
    if _provider is None:
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studyapp.settings")
        django.setup()
        from studyapp.ai.providers.local import LocalProvider

        _provider = LocalProvider()
    return _provider


def _run_ours(text: str) -> list[str]:
    """What `manage.py concepts --top 10` prints for the abstract (the local provider's ranking)."""
    provider = local_provider()
    from studyapp.cli.management.commands.concepts import document_concepts

    return document_concepts([("1", text)], provider, top=TOP, language="en")


_yake_extractor = None


def _run_yake(text: str) -> list[str]:
    global _yake_extractor
    if _yake_extractor is None:
        import yake

        _yake_extractor = yake.KeywordExtractor()  # 0.7.x defaults: en, n=3, top=20
    return [kw for kw, _score in _yake_extractor.extract_keywords(text)][:TOP]


def _score_doc(args: tuple[str, str, list[str]]) -> tuple[str, float, float, float, float, float, float]:
    doc_id, text, gold = args
    t0 = time.perf_counter()
    ours = _run_ours(text)
    t1 = time.perf_counter()
    theirs = _run_yake(text)
    t2 = time.perf_counter()
    gold_all = {g for g in (normalise(x) for x in gold) if g}
    text_norm = f" {normalise(text)} "
    gold_present = {g for g in gold_all if f" {g} " in text_norm}
    return (
        doc_id,
        f1_at_k(ours, gold_all),
        f1_at_k(theirs, gold_all),
        f1_at_k(ours, gold_present),
        f1_at_k(theirs, gold_present),
        t1 - t0,
        t2 - t1,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("zip", nargs="?", default=DEFAULT_ZIP, help=f"Inspec.zip (default {DEFAULT_ZIP})")
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents (default: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: CPU count)")
    args = parser.parse_args(argv)

    if not os.path.exists(args.zip):
        print(f"Inspec zip not found: {args.zip}", file=sys.stderr)
        return 2
    docs = load_inspec(args.zip)
    if args.limit is not None:
        docs = docs[: max(0, args.limit)]
    if not docs:
        print("no documents", file=sys.stderr)
        return 2

    start = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            rows = list(pool.map(_score_doc, docs, chunksize=20))
    else:
        rows = [_score_doc(d) for d in docs]
    elapsed = time.perf_counter() - start

    def mean(col: int, subset=None) -> float:
        values = [r[col] for i, r in enumerate(rows) if subset is None or subset(i)]
        return statistics.fmean(values) if values else float("nan")

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}x" if b else "n/a"

    import importlib.metadata as md

    n = len(rows)
    print(f"Inspec F1@{TOP} of `manage.py concepts` (local provider) vs yake defaults")
    print(f"(lower-case + Porter stem, all gold phrases), {n} documents")
    print(f"{'subset':<28} {'docs':>5} {'ours':>7} {'yake':>7} {'ratio':>7}")
    ours_all, yake_all = mean(1), mean(2)
    print(f"{'all':<28} {n:>5} {ours_all:>7.4f} {yake_all:>7.4f} {ratio(ours_all, yake_all):>7}")
    ours_p, yake_p = mean(3), mean(4)
    print(f"{'  (only gold present)':<28} {n:>5} {ours_p:>7.4f} {yake_p:>7.4f} {ratio(ours_p, yake_p):>7}")
    n_dev = min(n, DEV_DOCS)
    o, y = mean(1, lambda i: i < DEV_DOCS), mean(2, lambda i: i < DEV_DOCS)
    print(f"{'dev (docs 1-1000, tuned on)':<28} {n_dev:>5} {o:>7.4f} {y:>7.4f} {ratio(o, y):>7}")
    if n > DEV_DOCS:
        o, y = mean(1, lambda i: i >= DEV_DOCS), mean(2, lambda i: i >= DEV_DOCS)
        print(f"{'held-out (docs 1001-)':<28} {n - DEV_DOCS:>5} {o:>7.4f} {y:>7.4f} {ratio(o, y):>7}")
    print(
        f"extract time per doc: ours {1000 * mean(5):.1f} ms, yake {1000 * mean(6):.1f} ms; "
        f"wall {elapsed:.1f} s with {args.jobs} job(s)"
    )
    try:
        print(f"yake {md.version('yake')}, nltk {md.version('nltk')}")
    except md.PackageNotFoundError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
