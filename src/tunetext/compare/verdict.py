"""The plain-language answer, computed from the numbers: which approach to ship for this data, and at what cost."""

from __future__ import annotations

from tunetext.compare.statistics import paired_test_name, separates

FINE_TUNED = "fine-tuned"


def contenders(rows: list[dict]) -> list[dict]:
    """The rows that can be the best of something: all but those of a method declared a `reference_row` (shown
    for scale); all rows when only references were compared."""
    return [r for r in rows if not r["reference"]] or rows


def _best(rows: list[dict], metric: str, families: set[str], size) -> dict | None:
    candidates = [r for r in contenders(rows) if r["family"] in families and r["size_per_class"] == size]
    return max(candidates, key=lambda r: r[metric], default=None)


def _sizes(rows: list[dict]) -> list:
    """Subsampled sizes in increasing order, then None (the full training split)."""
    return sorted({r["size_per_class"] for r in rows if r["size_per_class"] is not None}) + [None]


def _points(a: float, b: float) -> float:
    return 100 * (a - b)


def _size_name(size) -> str:
    return "the full training set" if size is None else f"{size} examples per class"


def _leads(first: dict, second: dict, metric: str) -> bool:
    """`first` is ahead by more than the spread over seeds of either: a lead, not noise."""
    noise = max(first.get(f"{metric}_std", 0.0), second.get(f"{metric}_std", 0.0))
    return first[metric] - second[metric] > noise


def crossover(rows: list[dict], metric: str) -> tuple[object, bool]:
    """The smallest size from which the best fine-tuned method leads the best other method at every larger size.

    Leading means ahead by more than the seed-to-seed spread. Returns (size, found); `found` is False when
    fine-tuning never leads for good.
    """
    others = {r["family"] for r in rows} - {FINE_TUNED}
    sizes = [s for s in _sizes(rows) if _best(rows, metric, {FINE_TUNED}, s) and _best(rows, metric, others, s)]
    leads = [_leads(_best(rows, metric, {FINE_TUNED}, s), _best(rows, metric, others, s), metric) for s in sizes]
    start, found = None, False  # size None is the full training set, so `found` is kept apart
    for size, lead in zip(sizes, leads):
        if lead and not found:
            start, found = size, True
        elif not lead:
            start, found = None, False
    return start, found


def verdict(rows: list[dict], metric: str, dataset: str, n_classes: int, paired: dict | None = None,
            cv: dict | None = None, n_train: int | None = None) -> list[str]:
    """Sentences for the top of the report; every number in them comes from `rows` (aggregated results), the
    test split's paired test (`paired`) and, when the leaders were cross-validated, `cv` (see `crossval`), on
    which the recommendation then rests. `n_train`: the training split's size, which a capped full-size cell
    (`plan.FULL_SIZE_ROWS`) trained on a sample of."""
    families = {r["family"] for r in rows}
    others = families - {FINE_TUNED}
    full = [r for r in rows if r["size_per_class"] is None]
    best = max(contenders(full), key=lambda r: r[metric])
    leader = "the most accurate method is" if metric == "accuracy" else f"the best method by {metric} is"
    trained = int(best["n_train"])
    sampled = f", trained on a stratified sample of {trained:,}" if n_train and trained < n_train else ""
    lines = [
        f"On {dataset} ({n_train or trained:,} training texts, {n_classes} classes) {leader} "
        f"**{best['method']}**: {metric} {best[metric]:.3f}{sampled}."
    ]
    ft, other = _best(rows, metric, {FINE_TUNED}, None), _best(rows, metric, others, None)
    if ft and other:
        gap = _points(ft[metric], other[metric])
        significance = ""
        if paired:
            p = paired["p_value"]
            split = f"test split of {paired['n_test']:,} texts, " if "n_test" in paired else ""
            significance = f" ({split}{paired_test_name(paired)} p = {p:.3g}: {'a real difference' if p < 0.05 else 'not significant at 5%'})"
        direction = {1: "beats", 0: "is level with", -1: "trails"}[_direction(gap)]
        by = "" if _direction(gap) == 0 else f" by {abs(gap):.1f} points"
        lines.append(
            f"Fine-tuning ({ft['method']}) {direction} the best method without fine-tuning ({other['method']})"
            f"{by} on the full training set{significance}."
        )
        if len(_sizes(rows)) > 1:  # one size: the sentence above already says it all
            lines.append(_crossover_sentence(rows, metric, others))
        lines.append(
            f"Cost: {ft['method']} trained in {ft['train_seconds']:.1f} s against {other['train_seconds']:.1f} s for "
            f"{other['method']} ({_times(ft, other)} the time), predicts "
            f"{ft['predict_texts_per_second']:,.0f} texts/s against {other['predict_texts_per_second']:,.0f}, and "
            f"takes {ft['size_mb']:.1f} MB on disk against {other['size_mb']:.1f} MB."
        )
    few = few_labels_sentence(rows, metric)
    if few:
        lines.append(few)
    pretrained = _best(rows, metric, {"pretrained"}, None)
    if pretrained and ft:
        lines.append(
            f"Without fine-tuning, the same encoder reaches {pretrained[metric]:.3f} ({pretrained['method']}); "
            f"fine-tuning adds {_points(ft[metric], pretrained[metric]):.1f} points."
        )
    lines += [f"For scale, {r['method']} (a reference, not a contender) scores {r[metric]:.3f}, against "
              f"{1 / n_classes:.3f} for guessing uniformly." for r in full if r["reference"]]
    if cv:
        lines.append(cv_sentence(cv, metric))
    if ft and other:
        lines.append(_recommendation(ft, other, metric, _evidence(ft, other, metric, paired, cv)))
    return lines


def cv_skipped_sentence(skip: dict) -> str:
    """Why `cv="auto"` did not cross-validate leaders the test split cannot separate, and how to ask for it."""
    return (f"The test split cannot separate the leaders, but {skip['plan']} cross-validation would add about "
            f"{skip['estimate_seconds'] / 60:.1f} min of training, more than this comparison's "
            f"{skip['spent_seconds'] / 60:.1f} min, so it was not run: pass --cv {skip['folds']} to run it.")


def cv_sentence(cv: dict, metric: str) -> str:
    """What cross-validation found for the two leaders, on which data, and what it cost."""
    first, second = cv["scores"][cv["first"]], cv["scores"][cv["second"]]
    d = cv["difference"]
    verdict = "a real difference" if d["p_value"] < 0.05 else "not significant at 5%"
    return (f"Cross-validated ({cv['plan']}, {cv['n_pool']:,} labeled texts: {cv['data']}; the test split's scores "
            f"above are reported separately): {cv['first']} {metric} {first['mean']:.3f} ± {first['std']:.3f}, "
            f"{cv['second']} {second['mean']:.3f} ± {second['std']:.3f} over folds; difference "
            f"{_points(d['mean'], 0):+.1f} points (95% interval {_points(d['low'], 0):+.1f} to "
            f"{_points(d['high'], 0):+.1f}, corrected resampled t-test p = {d['p_value']:.3g}: {verdict}). "
            f"It cost {cv['extra_runs']} extra training runs, {cv['extra_train_seconds'] / 60:.1f} min of training."
            + _power_note(cv))


def _power_note(cv: dict) -> str:
    """A nudge toward more folds when the t-test has almost no degrees of freedom to work with."""
    df = cv["difference"]["df"]
    if df >= 4:
        return ""
    return (f" {cv['folds'] * cv['repeats']} fold results leave the t-test {df} degrees of freedom and little power; "
            "--cv 5x2 gives it more.")


def _evidence(ft: dict, other: dict, metric: str, paired: dict | None, cv: dict | None) -> dict:
    """The gap and significance the recommendation rests on.

    Cross-validation is for leaders the test split cannot separate, and then it decides. When the test split did
    separate them (folds asked for with `--cv K`), the split stays the evidence and the folds are a check beside
    it, unless they point the other way: a t-test over a few folds has far less power (3 folds: 2 degrees of
    freedom) than a held-out split that already decided, and should not overrule it in the same direction.
    """
    test_split = {"gap": _points(ft[metric], other[metric]), "p_value": None if paired is None else paired["p_value"],
                  "test": None if paired is None else paired_test_name(paired), "source": "the test split"}
    if not cv or {cv["first"], cv["second"]} != {ft["method"], other["method"]}:
        return test_split
    sign = 1 if cv["first"] == ft["method"] else -1
    folds = {"gap": sign * _points(cv["difference"]["mean"], 0), "p_value": cv["difference"]["p_value"],
             "test": "corrected resampled t-test", "source": f"{cv['plan']} cross-validation"}
    if separates(paired) and _direction(folds["gap"]) == _direction(test_split["gap"]):
        return test_split | {"source": f"the test split, which separated them; {cv['plan']} cross-validation "
                                       "points the same way"}
    return folds


def _crossover_sentence(rows: list[dict], metric: str, others: set[str]) -> str:
    start, found = crossover(rows, metric)
    sizes = _sizes(rows)
    if not found:
        return "Fine-tuning does not lead for good at any training size tested: a method without fine-tuning is as good or better."
    if start == sizes[0]:
        return f"Fine-tuning leads at every training size tested, from {_size_name(start)} on."
    below = sizes[sizes.index(start) - 1]
    ft, other = _best(rows, metric, {FINE_TUNED}, below), _best(rows, metric, others, below)
    gap = _points(other[metric], ft[metric])
    spread = max(ft.get(f"{metric}_std", 0.0), other.get(f"{metric}_std", 0.0))
    if gap > 0:
        lead = f"ahead by {gap:.1f} points"
    else:
        lead = f"level (fine-tuning's {-gap:.1f} points are within the {100 * spread:.1f}-point spread over seeds)"
    cost = ft["train_seconds"] / max(other["train_seconds"], 1e-6)
    return (
        f"Fine-tuning beats the best other method from {_size_name(start)} on; at {_size_name(below)}, "
        f"{other['method']} is {lead} at 1/{cost:.0f} of the training time."
    )


def few_labels_sentence(rows: list[dict], metric: str) -> str | None:
    """Which method to start with at the smallest size tested (most users begin with a few dozen labels): the
    best there, and whether it leads the next method by more than the seed spread. None without subsamples."""
    sizes = _sizes(rows)[:-1]
    if not sizes:
        return None
    smallest = sorted((r for r in contenders(rows) if r["size_per_class"] == sizes[0]), key=lambda r: -r[metric])
    if len(smallest) < 2:
        return None
    first, second = smallest[:2]
    spread = f" ± {first[f'{metric}_std']:.3f}" if first.get(f"{metric}_std") else ""
    gap = _points(first[metric], second[metric])
    relation = (f"ahead of {second['method']} by {gap:.1f} points" if _leads(first, second, metric)
                else f"level with {second['method']} ({gap:.1f} points, within the spread over seeds)")
    return (f"With few labels ({_size_name(sizes[0])}), start with **{first['method']}**: {metric} "
            f"{first[metric]:.3f}{spread}, {relation}, trained in {first['train_seconds']:.1f} s.")


def _direction(gap: float) -> int:
    """1 when fine-tuning is ahead, -1 behind, 0 when the gap rounds to 0.0 points as printed."""
    return 0 if abs(gap) < 0.05 else (1 if gap > 0 else -1)


def _times(ft: dict, other: dict) -> str:
    """Fine-tuning's training time relative to the other method's: "366×", or "1/3 of" when it was faster."""
    ratio = ft["train_seconds"] / max(other["train_seconds"], 1e-6)
    return f"{ratio:.0f}×" if ratio >= 1 else f"1/{1 / max(ratio, 1e-6):.0f} of"


def _recommendation(ft: dict, other: dict, metric: str, evidence: dict) -> str:
    """Ship fine-tuning only for a significant lead of at least a point; otherwise say why not, for a lead
    too small or not significant, a tie, and a loss (where the other method is better, and cheaper if it is).
    The gap and its test come from `evidence` (see `_evidence`), which the sentence names."""
    gap, p = evidence["gap"], evidence["p_value"]
    significant = p is None or p < 0.05
    cost = f"{_times(ft, other)} the training time"
    rests = f" (evidence: {evidence['source']})"
    if _direction(gap) > 0 and gap >= 1.0 and significant:
        return (f"**Ship {ft['method']}** if {gap:.1f} points are worth its training and serving cost; otherwise "
                f"{other['method']}.{rests}")
    if _direction(gap) > 0 and not significant:
        return (f"**Ship {other['method']}**: fine-tuning's {gap:.1f}-point lead is not significant at 5% "
                f"({evidence['test']} p = {p:.3g}) and costs {cost}.{rests}")
    if _direction(gap) > 0:
        return f"**Ship {other['method']}**: fine-tuning's {gap:.1f}-point lead is too small to pay for {cost}.{rests}"
    if _direction(gap) == 0:
        return f"**Ship {other['method']}**: fine-tuning scores the same {metric} for {cost}.{rests}"
    noise = "" if significant else " (not significant at 5%)"
    cheaper = ("better and cheaper" if other["train_seconds"] <= ft["train_seconds"]
               else f"better, though slower to train (fine-tuning takes {cost})")
    return (f"**Ship {other['method']}**: fine-tuning ({ft['method']}) trails it by {-gap:.1f} points of "
            f"{metric}{noise}; {other['method']} is {cheaper}.{rests}")


MATERIAL_ECE = 0.02
"""Leaders whose expected calibration errors differ by at least this much get a calibration sentence."""


def calibration_sentence(leaders: list[dict]) -> str | None:
    """One sentence when the leading methods' probabilities differ materially in honesty (ECE), else None.

    `leaders` are metrics dictionaries (compare's full-size cells) with `method` and `ece`.
    """
    if len(leaders) < 2:
        return None
    best, worst = min(leaders, key=lambda r: r["ece"]), max(leaders, key=lambda r: r["ece"])
    if worst["ece"] - best["ece"] < MATERIAL_ECE:
        return None
    return (f"Calibration: {best['method']}'s probabilities are the most honest of the leaders (expected calibration "
            f"error {best['ece']:.3f}, against {worst['ece']:.3f} for {worst['method']}): prefer it where decisions "
            "use probability thresholds (see the reliability diagram).")
