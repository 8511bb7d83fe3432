"""The report a person reads: Markdown and a self-contained HTML page (plots embedded), plus JSON and CSV."""

from __future__ import annotations

import base64
import csv
import html
import io
from dataclasses import dataclass
from pathlib import Path

from tunetext.io import atomic_path, write_json

SCALARS = ("method", "family", "size_per_class", "seed", "n_train", "accuracy", "f1_macro", "precision_macro",
           "recall_macro", "f1_weighted", "log_loss", "ece", "brier", "train_seconds", "predict_texts_per_second",
           "peak_memory_mb", "size_mb")


def _fmt_size(size) -> str:
    return "all" if size is None else str(size)


def summary_table(rows: list[dict], intervals: dict[str, dict], metric: str) -> tuple[list[str], list[list[str]]]:
    """Full-training-set results, best first: metric with its 95% interval, then every cost."""
    second = "accuracy" if metric == "f1_macro" else "f1_macro"  # the metric not ranked by, for contrast
    header = ["method", "family", metric, "95% CI", second, "train s", "predict texts/s", "size MB", "peak MB"]
    body = []
    for r in sorted((r for r in rows if r["size_per_class"] is None), key=lambda r: -r[metric]):
        low, high = intervals.get(r["method"], {}).get(metric, (float("nan"), float("nan")))
        spread = f" ± {r[f'{metric}_std']:.3f}" if r["seeds"] > 1 else ""
        body.append([r["method"], r["family"], f"{r[metric]:.3f}{spread}", f"{low:.3f}–{high:.3f}",
                     f"{r[second]:.3f}", f"{r['train_seconds']:.1f}", f"{r['predict_texts_per_second']:,.0f}",
                     f"{r['size_mb']:.1f}", f"{r['peak_memory_mb']:.0f}"])
    return header, body


def curve_table(rows: list[dict], metric: str) -> tuple[list[str], list[list[str]]]:
    """Methods × training sizes: mean ± std of the metric over seeds."""
    sizes = sorted({r["size_per_class"] for r in rows if r["size_per_class"] is not None}) + [None]
    header = ["method"] + [f"{_fmt_size(s)}/class" if s else "all" for s in sizes]
    body = []
    for method in sorted({r["method"] for r in rows}):
        by_size = {r["size_per_class"]: r for r in rows if r["method"] == method}
        cells = []
        for s in sizes:
            r = by_size.get(s)
            cells.append("" if r is None else f"{r[metric]:.3f}" + (f" ± {r[f'{metric}_std']:.3f}" if r["seeds"] > 1 else ""))
        body.append([method] + cells)
    return header, body


def forecast_table(forecasts: list) -> tuple[list[str], list[list[str]]]:
    """Per method: the fitted score at the current labeled data and the forecast at 2× and 4× it, with intervals."""
    header = ["method", "sizes fitted", "labeled now", "fitted now", "2× labels", "4× labels", "still rising"]
    body = []
    for f in sorted(forecasts, key=lambda f: -f.points[4][0]):
        cells = [f"{p:.3f} ({low:.3f}–{high:.3f})" for p, low, high in (f.points[2], f.points[4])]
        body.append([f.method, str(f.sizes_used), f"{f.n_now:,.0f}", f"{f.score_now:.3f}", *cells, "yes" if f.rising else "no"])
    return header, body


def cv_table(cv: dict, rows: list[dict], metric: str) -> tuple[list[str], list[list[str]]]:
    """The cross-validated leaders beside their test-split scores (two different pieces of evidence)."""
    test = {r["method"]: r[metric] for r in rows if r["size_per_class"] is None}
    header = ["method", f"{metric}, cross-validated (mean ± std over {cv['folds'] * cv['repeats']} folds)",
              f"{metric}, test split"]
    body = [[m, f"{s['mean']:.3f} ± {s['std']:.3f}", f"{test[m]:.3f}" if m in test else ""] for m, s in cv["scores"].items()]
    return header, body


def _markdown_table(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def _html_table(header: list[str], body: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _html_inline(markdown_line: str) -> str:
    """The verdict uses **bold** only; everything else is escaped."""
    parts = html.escape(markdown_line).split("**")
    return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))


CSS = """body{font:15px/1.5 system-ui,sans-serif;max-width:1050px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f4f4f4}img{max-width:100%;border:1px solid #eee}
.verdict{background:#f6fbf6;border-left:4px solid #2a7;padding:.5em 1em}small{color:#666}"""


@dataclass(frozen=True)
class Section:
    """What an optional part of compare (model size, label audit) adds to the report: verdict sentences, tables,
    figures and results.json keys (all empty when it has nothing to say, so the report is unchanged)."""

    sentences: list[str]
    tables: list[tuple[str, tuple]]
    figures: list[tuple[str, Path]]
    summary: dict


def write_report(out: Path, *, title: str, setup: str, verdict: list[str], tables: list[tuple[str, tuple]],
                 plots: list[tuple[str, Path]], cells: list[dict], summary: dict) -> None:
    """Write report.md, report.html, results.json and results.csv into `out`, each atomically."""
    md = [f"# {title}", "", setup, "", "## Verdict", ""] + [f"- {line}" for line in verdict] + [""]
    page = [f"<h1>{html.escape(title)}</h1><p>{html.escape(setup)}</p><h2>Verdict</h2><div class='verdict'><ul>"]
    page += [f"<li>{_html_inline(line)}</li>" for line in verdict] + ["</ul></div>"]
    for heading, (header, body) in tables:
        md += [f"## {heading}", "", _markdown_table(header, body), ""]
        page += [f"<h2>{html.escape(heading)}</h2>", _html_table(header, body)]
    md += ["## Plots", ""]
    page += ["<h2>Plots</h2>"]
    for caption, path in plots:
        md += [f"![{caption}]({path.name})", ""]
        encoded = base64.b64encode(path.read_bytes()).decode()
        page += [f"<h3>{html.escape(caption)}</h3><img alt='{html.escape(caption)}' src='data:image/png;base64,{encoded}'>"]
    page += ["<p><small>Every number above is in results.json / results.csv (one row per method × size × seed).</small></p>"]
    with atomic_path(out / "report.md") as tmp:
        tmp.write_text("\n".join(md), encoding="utf-8")
    with atomic_path(out / "report.html") as tmp:
        tmp.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                       f"<style>{CSS}</style></head><body>{''.join(page)}</body></html>", encoding="utf-8")
    write_json(out / "results.json", summary | {"cells": [{k: v for k, v in c.items() if k != "predicted"} for c in cells]})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SCALARS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({**c, "size_per_class": _fmt_size(c["size_per_class"])} for c in cells)
    with atomic_path(out / "results.csv") as tmp:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
