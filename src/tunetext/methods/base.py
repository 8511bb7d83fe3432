"""The one protocol every method follows: fit / predict_proba / predict / save / load.

Hyperparameters are keyword-only `__init__` arguments stored unchanged (scikit-learn's contract), so
`get_params`, `set_params` and `sklearn.base.clone` work for Optuna and the comparison runner.
Everything learned in `fit` ends in `_`. Subclasses write `_fit`, `_predict_proba`, `_save_state`
and `_load_state`; the base validates inputs once and writes the saved directory atomically.

Multi-label data (every label a tuple of names) puts a method that declares `multilabel` in multi-label
mode: `_fit` gets a 0/1 indicator matrix, `predict_proba` gives independent per-label probabilities,
and the base tunes one threshold per label on the validation split, which `predict` applies.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Iterable, NamedTuple, Sequence

import numpy as np
from sklearn.base import BaseEstimator

from tunetext import __version__
from tunetext.data.dataset import LabeledTexts, Text, indicator, is_multilabel, label_set
from tunetext.errors import ConfigError, DataError, ModelError, NotFittedError, TunetextError
from tunetext.evaluation.cost import ReusedWork
from tunetext.io import atomic_dir, check_output_dir, read_json, write_json

METADATA_FILE = "tunetext.json"
_METADATA_KEYS = ("method", "params", "classes")


class Method(BaseEstimator):
    """Base class: a text classifier with a name in the registry."""

    name: ClassVar[str] = ""
    family: ClassVar[str] = "traditional"
    """"traditional", "pretrained" (a transformer used without fine-tuning) or "fine-tuned":
    compare groups methods by it and tests fine-tuned against the best of the rest."""
    learns_from_labels: ClassVar[bool] = True
    """False for methods whose predictions don't depend on the training set (zero-shot, untrained head):
    compare runs them once instead of at every training-set size."""
    in_fast_budget: ClassVar[bool] = True
    """Whether `compare --budget fast` (the default) runs it; variants too costly for a 10-minute
    CPU comparison say False and still run with `--budget full` or by name in `--methods`."""
    in_fast_budget_for_few_labels: ClassVar[bool] = False
    """Whether the fast budget runs it on few-label data anyway (`compare.plan.FEW_LABELS`), where its full-size
    cell is cheap: a method built for few labels whose full-size cell on large data is not."""
    comparable: ClassVar[bool] = True
    """False for a method that cannot learn from compare's one labeled dataset (multitask needs several):
    compare never plans it, and refuses it by name."""
    reference_row: ClassVar[bool] = False
    """True for a method compare shows for scale, not as a contender (pretrained-head: the naive use of an
    encoder); the verdict reports its score apart and never picks it as the best of anything."""
    search_space: ClassVar[dict[str, Any]] = {}
    """`tune`'s default search space, in the JSON shape of a `--space` file (see `tunetext.tune.space`);
    it should contain the method's defaults, so trial 0 runs them. Empty: `tune` needs `--space`."""
    exports_onnx: ClassVar[bool] = False
    """Whether `tunetext export --onnx` can trace the fitted method: such a method writes `onnx_parts` and
    saves its tokenizer into its model folder, where the exported model finds it."""
    multilabel: ClassVar[bool] = False
    """Whether the method learns multi-label data (labels that are tuples of names): its `_fit` then gets a
    0/1 indicator matrix (`self.multilabel_` is True) and its `_predict_proba` returns independent per-label
    probabilities. `fit` refuses multi-label data for a method that does not declare it."""

    classes_: np.ndarray

    # ---- public API -------------------------------------------------------------------------
    def fit(
        self,
        texts: Sequence[Text],
        labels: Sequence[Any],
        *,
        validation: LabeledTexts | None = None,
    ) -> "Method":
        """Learn from `texts` and `labels`; `validation` is used by methods that early-stop.

        Labels that are tuples of names (a set per text, possibly empty) make it a multi-label fit: the
        method must declare `multilabel`; per-label thresholds are then tuned on `validation` (0.5 without
        it), and `predict` keeps at least one label per text when no training text has an empty set.
        Hyperparameters are checked first (`_check_params`), so a typo fails before any data is read or model loaded.
        """
        self._check_params()
        texts, labels = _check_training_data(texts, labels)
        self.multilabel_ = is_multilabel(labels)
        if self.multilabel_ and not self.multilabel:
            raise ConfigError(_refuse_multilabel(self))
        if validation is not None and len(validation) and validation.is_multilabel != self.multilabel_:
            kinds = ("label sets", "single labels") if self.multilabel_ else ("single labels", "label sets")
            raise DataError(f"the training data has {kinds[0]} but the validation data has {kinds[1]}; give both "
                            "the same kind of labels.")
        texts = self._preprocess(texts)
        if validation is not None:
            validation = LabeledTexts(self._preprocess(list(validation.texts)), validation.labels, validation.source)
        if self.multilabel_:
            self.classes_ = np.array(sorted({name for names in labels for name in names}), dtype=object)
            target = indicator(labels, self.classes_)
        else:
            self.classes_ = np.array(sorted(set(labels)), dtype=object)
            target = labels
        start = time.perf_counter()
        with ReusedWork() as reused:  # cached features are charged at what encoding them first cost
            self._fit(texts, target, validation)
        if self.multilabel_:
            self._tune_thresholds(validation, at_least_one=all(labels))
        self.train_seconds_ = time.perf_counter() - start + reused.seconds
        return self

    def predict_proba(self, texts: Sequence[Text]) -> np.ndarray:
        """Class probabilities, float32 of shape (n_texts, n_classes), columns in `classes_` order.

        Rows sum to 1; in multi-label mode each column is its label's own probability (no normalisation)."""
        self._check_fitted()
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.classes_)), dtype=np.float32)
        proba = np.asarray(self._predict_proba(self._preprocess(texts)), dtype=np.float32)
        if getattr(self, "multilabel_", False):
            return proba
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[Text], *, at_least_one: bool | None = None) -> np.ndarray:
        """The most probable label for each text (an object array of labels from `classes_`); in
        multi-label mode, a tuple of labels per text (see `decide`)."""
        return self.decide(self.predict_proba(texts), at_least_one=at_least_one)

    def decide(self, proba: np.ndarray, *, at_least_one: bool | None = None) -> np.ndarray:
        """`predict` from probabilities already computed: the argmax label, or in multi-label mode the labels
        whose probability reaches their threshold `thresholds_`; `at_least_one` (default: `at_least_one_`,
        learned in `fit`) adds the best label to a text that would get none."""
        from tunetext.methods.thresholds import predict_labels

        self._check_fitted()
        if not getattr(self, "multilabel_", False):
            return predict_labels(proba, self.classes_)
        at_least_one = self.at_least_one_ if at_least_one is None else at_least_one
        return predict_labels(proba, self.classes_, self.thresholds_, at_least_one=at_least_one)

    def save(self, directory: str | Path, *, overwrite: bool = False) -> Path:
        """Write the fitted method to `directory` atomically; returns the directory.

        An existing `directory` is replaced only if it is empty or a saved model; see `check_model_dir`.
        """
        self._check_fitted()
        directory = Path(directory)
        with atomic_dir(directory, markers=(METADATA_FILE,), overwrite=overwrite) as tmp:
            self._save_state(tmp)
            write_json(tmp / METADATA_FILE, self._metadata())
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "Method":
        """Load a method saved by `save`; on the base class, dispatches on the saved method name."""
        from tunetext.methods.registry import get_method_class

        directory = Path(directory)
        meta = read_metadata(directory)
        method_cls = get_method_class(meta["method"]) if cls is Method else cls
        _check_weights(directory)
        try:
            method = method_cls(**_restore_tuples(meta["params"]))
            method.classes_ = np.array(meta["classes"], dtype=object)
            method.train_seconds_ = meta.get("train_seconds")
            method.multilabel_ = bool(meta.get("multilabel", False))
            if method.multilabel_:
                method.thresholds_ = np.asarray(meta["thresholds"], dtype=np.float32)
                method.at_least_one_ = bool(meta["at_least_one"])
            method._load_state(directory)
        except TunetextError:
            raise
        except Exception as exc:  # whatever a damaged file makes torch, transformers or a tokenizer raise
            raise ModelError(f"{directory} could not be loaded: {type(exc).__name__}: {exc}. {_restore_hint(directory)}") from exc
        return method

    # ---- capabilities, read by compare and export (override where the method has them) ---------
    def diagnostics(self) -> dict[str, "Series"]:
        """What the fitted method learned about itself, worth a figure in the compare report (FineText: its
        layer weights); a diagnostic of the same name from several methods is drawn in one figure."""
        return {}

    def onnx_parts(self) -> "OnnxParts":
        """What ONNX export traces, for a method that declares `exports_onnx`."""
        raise NotImplementedError(f"{type(self).__name__} does not export to ONNX (exports_onnx is False).")

    # ---- for subclasses -----------------------------------------------------------------------
    def _check_params(self) -> None:
        """Raise ConfigError for any bad hyperparameter; `fit` calls it before any work. Hyperparameters are
        stored unchecked (scikit-learn's contract: `set_params` and `clone` bypass `__init__`), so this is their one check."""

    def _fit(self, texts: list[Text], labels: list[str] | np.ndarray, validation: LabeledTexts | None) -> None:
        """Learn from `labels`: strings, or in multi-label mode a 0/1 matrix (n_texts, n_classes); the
        labels of `validation` are then tuples (`indicator(validation.labels, self.classes_)` turns them into one)."""
        raise NotImplementedError

    def _predict_proba(self, texts: list[Text]) -> np.ndarray:
        raise NotImplementedError

    def _save_state(self, directory: Path) -> None:
        raise NotImplementedError

    def _load_state(self, directory: Path) -> None:
        raise NotImplementedError

    def _metadata(self) -> dict:
        """What `load` needs to rebuild the method; subclasses may add keys."""
        meta = {
            "method": self.name,
            "params": self.get_params(deep=False),
            "classes": self.classes_.tolist(),
            "train_seconds": getattr(self, "train_seconds_", None),
            "tunetext_version": __version__,
        }
        if getattr(self, "multilabel_", False):
            meta |= {"multilabel": True, "thresholds": self.thresholds_.tolist(), "at_least_one": self.at_least_one_}
        return meta

    def _tune_thresholds(self, validation: LabeledTexts | None, *, at_least_one: bool) -> None:
        """Per-label thresholds from the validation split (0.5 without one): see `methods.thresholds`."""
        from tunetext.methods.thresholds import DEFAULT_THRESHOLD, tune_thresholds

        self.at_least_one_ = at_least_one
        if validation is None or len(validation) == 0:
            self.thresholds_ = np.full(len(self.classes_), DEFAULT_THRESHOLD, dtype=np.float32)
            return
        truth = indicator([label_set(names) for names in validation.labels], self.classes_)
        proba = np.asarray(self._predict_proba(list(validation.texts)), dtype=np.float32)
        self.thresholds_ = tune_thresholds(truth, proba)

    def _preprocess(self, texts: list[Text]) -> list[Text]:
        """Apply the `preprocess` hyperparameter, for methods that declare one, to every text (and pair)."""
        spec = getattr(self, "preprocess", None)
        if spec is None:
            return texts
        from tunetext.preprocessing import get_normaliser

        normalise = get_normaliser(spec)
        return [tuple(map(normalise, text)) if isinstance(text, tuple) else normalise(text) for text in texts]

    def _check_fitted(self) -> None:
        if not hasattr(self, "classes_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit(texts, labels) first.")


@dataclass(frozen=True)
class Series:
    """A diagnostic: one number per labelled item (layer, class, ...), which compare draws as bars."""

    title: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    xlabel: str = ""
    ylabel: str = ""

    def __post_init__(self) -> None:
        if len(self.labels) != len(self.values):
            raise ValueError(f"Series {self.title!r} has {len(self.labels)} labels for {len(self.values)} values; "
                             "give one label per value.")
        # Plain str and float, whatever array the method held: compare stores the series as JSON.
        object.__setattr__(self, "labels", tuple(map(str, self.labels)))
        object.__setattr__(self, "values", tuple(map(float, self.values)))


class OnnxParts(NamedTuple):
    """What `export_onnx` traces: a module from `(input_ids, attention_mask)` to logits over `classes_`, the
    tokenizer that makes its ids (saved in the model folder too), the window length, the temperature the logits
    are divided by before the softmax (temperature scaling; 1 for none), and how a text longer than a window is
    read ("truncate", "head_tail", "chunks") with how chunk logits are pooled ("mean", "max")."""

    module: Any
    tokenizer: Any
    max_length: int
    temperature: float = 1.0
    long_texts: str = "truncate"
    aggregation: str = "mean"


def describe_params(method_cls: type[Method]) -> list[tuple[str, Any, str]]:
    """(name, default, description) of each hyperparameter, for `tunetext methods NAME`.

    Defaults come from the signature; descriptions from the numpydoc "Parameters" section of the class's
    docstring or, for a parameter it does not describe, of the nearest base class that does: a subclass
    that only changes a default documents nothing again.
    """
    docs: dict[str, str] = {}
    for klass in method_cls.__mro__:
        for name, text in _parameters_section(klass.__dict__.get("__doc__")).items():
            docs.setdefault(name, text)
    signature = inspect.signature(method_cls).parameters
    return [(name, param.default, docs.get(name, "")) for name, param in signature.items()]


def _parameters_section(doc: str | None) -> dict[str, str]:
    """{name: description} from a numpydoc "Parameters" section: `name` (or `name : type`) lines, each
    followed by its indented description, up to the next titled section."""
    lines = inspect.cleandoc(doc or "").splitlines() + [""]
    entries: dict[str, str] = {}
    inside, name = False, None
    for line, underline in zip(lines, lines[1:]):
        is_title = underline.startswith("---")
        if is_title:
            inside, name = line.strip() == "Parameters", None
        elif inside and line and not line[0].isspace() and not line.startswith("---"):
            name = line.split(":")[0].strip()
            entries[name] = ""
        elif inside and name and line.strip():
            entries[name] = f"{entries[name]} {line.strip()}".strip()
    return entries


def check_model_dir(directory: str | Path, *, inputs: Iterable[str | Path] = (), overwrite: bool = False) -> Path:
    """Refuse, before training, a `directory` that `save` would refuse to replace (see `io.check_output_dir`)."""
    return check_output_dir(directory, markers=(METADATA_FILE,), inputs=inputs, overwrite=overwrite)


def read_metadata(directory: str | Path) -> dict:
    """DIR/tunetext.json, checked, so a missing or damaged file is named with its fix instead of a JSON traceback."""
    directory = Path(directory)
    path = directory / METADATA_FILE
    if not path.exists():
        raise FileNotFoundError(
            f"{directory} is not a tunetext model directory: {METADATA_FILE} is missing. "
            "Train one with `tunetext train --method NAME --data PATH --out DIR`."
        )
    try:
        meta = read_json(path)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ModelError(f"{path} is not valid JSON ({exc}). {_restore_hint(directory)}") from None
    missing = [key for key in _METADATA_KEYS if not isinstance(meta, dict) or key not in meta]
    if missing:
        raise ModelError(f"{path} lacks {', '.join(missing)}. {_restore_hint(directory)}")
    return meta


def _check_weights(directory: Path) -> None:
    """Read every safetensors header before a method loads it, so a truncated copy names its file."""
    files = sorted(directory.glob("*.safetensors"))
    if not files:
        return
    from safetensors import safe_open

    for path in files:
        try:
            with safe_open(path, framework="np"):
                pass
        except Exception as exc:  # SafetensorError for a short or garbled file
            raise ModelError(f"{path} is damaged or truncated ({exc}). {_restore_hint(directory)}") from None


def _restore_hint(directory: Path) -> str:
    return (f"The model folder is damaged: copy it again from where it was trained, "
            f"or retrain with `tunetext train ... --out {directory}`.")


def _restore_tuples(params: dict) -> dict:
    """JSON turns tuples into lists; sequence hyperparameters are tuples (immutable, hashable), so give them back."""
    return {key: tuple(value) if isinstance(value, list) else value for key, value in params.items()}


def _refuse_multilabel(method: Method) -> str:
    from tunetext.methods.registry import get_method_class, list_methods

    able = [name for name in list_methods() if get_method_class(name).multilabel]
    return (f"method {method.name!r} ({type(method).__name__}) cannot learn multi-label data (labels that are sets "
            f"of names). Methods that can: {', '.join(able)}. Or keep one label per text.")


def _check_training_data(texts: Sequence[Text], labels: Sequence[Any]) -> tuple[list[Text], list]:
    """Reject training data no method could learn from, with a message that says what to do."""
    texts, labels = list(texts), list(labels)
    if len(texts) != len(labels):
        raise DataError(f"got {len(texts)} texts but {len(labels)} labels; pass one label per text.")
    if not texts:
        raise DataError("no training examples: the training data is empty.")
    if is_multilabel(labels):
        return texts, _check_label_sets(labels)
    labels = [str(label) for label in labels]
    classes = set(labels)
    if len(classes) < 2:
        raise DataError(
            f"only one class in the training labels ({next(iter(classes))!r}); "
            "a classifier needs at least two. Check the label column."
        )
    return texts, labels


def _check_label_sets(labels: list) -> list[tuple[str, ...]]:
    """Multi-label training labels as sorted tuples; refuse a mix with single labels, and a label every text has."""
    single = [i for i, label in enumerate(labels) if isinstance(label, str)]
    if single:
        raise DataError(
            f"labels mix single labels and label sets: text {single[0] + 1} has {labels[single[0]]!r} while others "
            "have lists of labels. Give every text a list (or tuple) of labels, e.g. ('spam',) or () for none."
        )
    sets = [label_set(label) for label in labels]
    names = sorted({name for names in sets for name in names})
    if not names:
        raise DataError("every label set in the training data is empty: there is no label to learn.")
    always = [name for name in names if all(name in names_ for names_ in sets)]
    if always:
        raise DataError(
            f"label {always[0]!r} is on every training text, so there is nothing to learn about it. Drop it from "
            "the label sets, or add texts without it."
        )
    return sets
