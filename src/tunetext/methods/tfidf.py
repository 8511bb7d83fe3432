"""TF-IDF + linear models: the traditional baselines every fine-tuned model has to beat.

Word uni+bigrams with sublinear term frequency are the strong default from the literature
(Wang & Manning 2012); all four methods share the vectoriser settings and the save format.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file
from scipy import sparse
from scipy.special import expit, log_expit, softmax
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.svm import LinearSVC
from sklearn.utils.class_weight import compute_class_weight

from tunetext.data.dataset import LabeledTexts, Text
from tunetext.errors import ModelError
from tunetext.io import read_json, write_json
from tunetext.methods.base import METADATA_FILE, Method
from tunetext.methods.registry import register
from tunetext.methods.weighting import fit_class_weight

ARRAYS_FILE = "tfidf.safetensors"
VOCABULARY_FILE = "vocabulary.json"
PICKLE_FILE = "model.joblib"
"""What older tunetext versions saved: a pickle, which runs whatever code it names when loaded, so it is refused."""
MIN_PER_CLASS_TO_CALIBRATE = 30
"""Below this, cross-validated Platt scaling is fitted on folds so small that its slope can flip sign
(measured: 16 examples per class on rt-snippets fell to 0.46 accuracy, below chance); the SVM's own
margins then rank the classes, through a softmax."""

HELD_OUT_CALIBRATION_ROWS = 20_000
"""From this many training texts on, tfidf-svm calibrates on the validation split instead of k-fold refits:
those refits were most of a 9-minute fit on 465k rows, while a validation split that size holds plenty
of every class. Below it, the refits cost seconds and use every training text for calibration."""

LOOSE_TOLERANCE_ROWS = 20_000
"""From this many training texts on, tfidf-logreg stops newton-cg at a gradient tolerance of 1e-3 instead of
1e-4: on the 50,660 distinct health tweets the fit took 43 s instead of 87 s at equal accuracy (validation and test
within 0.1 point), on 400k rows of repeated ones 49 s instead of 184 s. Smaller fits take under a second, and there
the looser tolerance moved test accuracy by up to 2 points either way (noise, not a gain), so they keep 1e-4."""

NGRAM_CHOICES = [[1, 1], [1, 2], [1, 3]]
"""The n-gram ranges `tune` tries by default (as JSON lists: the space's shape)."""

LINKS = {
    "softmax": lambda scores: softmax(scores, axis=1),
    # One sigmoid per class, normalised to sum to 1 (in log space: no 0/0 when every sigmoid underflows).
    "sigmoid": lambda scores: softmax(log_expit(scores), axis=1),
    # Multi-label: each label's own sigmoid, not normalised across labels.
    "independent": expit,
}
"""From the linear class scores to probabilities."""


def join_pair(text: Text) -> str:
    """Bag-of-words models see a text pair as one document; the marker keeps the halves apart."""
    return f"{text[0]} [SEP] {text[1]}" if isinstance(text, tuple) else text


class _SparseLinearMethod(Method):

    """Shared fit/predict/save: a vectoriser, then linear class scores that a link turns into probabilities.

    Every classifier here scores a class linearly in the features, so a fitted one is kept as arrays
    (`coef_`, `intercept_`, one row per class in `classes_` order) and the name of its link. A saved
    model is then numbers and text only (safetensors + JSON), and loading it runs no code: no pickle.
    Multi-label data is learned one-vs-rest: one binary model per label, whose score row is the log-odds
    of that label ("independent" link).

    Parameters
    ----------
    ngram_range
        Word n-gram lengths (low, high) the vectoriser counts.
    min_df
        Ignore n-grams in fewer training texts than this.
    max_features
        Keep only the most frequent n-grams; None keeps all.
    """

    multilabel = True

    def __init__(self, *, ngram_range: tuple[int, int] = (1, 2), min_df: int = 1, max_features: int | None = None):
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features

    def _vectorizer(self):
        return TfidfVectorizer(
            ngram_range=tuple(self.ngram_range),
            min_df=self.min_df,
            max_features=self.max_features,
            sublinear_tf=True,
            strip_accents="unicode",
        )

    def _linear_model(self, features: sparse.csr_matrix, labels: list[str], class_weight=None,
                      held_out=None) -> tuple[np.ndarray, np.ndarray, str]:
        """Fit on `features`; return (coef, intercept, link), rows in sorted label order as scikit-learn's.
        `class_weight` is None or "balanced" ("auto" already resolved); always None for methods without one.
        `held_out` is (features, labels) of the validation split, or None: for methods that calibrate on it."""
        raise NotImplementedError

    def _fit(self, texts: list[Text], labels: list[str], validation: LabeledTexts | None) -> None:
        self.vectorizer_ = self._vectorizer()
        features = self.vectorizer_.fit_transform([join_pair(t) for t in texts])
        held_out = None if validation is None else (
            self.vectorizer_.transform([join_pair(t) for t in validation.texts]), list(validation.labels))

        def fit(weight):
            if self.multilabel_:
                return self._one_vs_rest(features, labels, weight)
            coef, intercept, link = self._linear_model(features, labels, weight, held_out)
            if len(coef) == 1:  # scikit-learn scores a binary problem by its second class; the first gets the negation
                coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
            return coef, intercept, link

        def validation_proba(model):
            coef, intercept, link = model
            return LINKS[link](held_out[0] @ coef.T + intercept)

        (self.coef_, self.intercept_, self.link_), self.class_weight_ = fit_class_weight(
            getattr(self, "class_weight", None), fit, validation_proba, validation, self.classes_)

    def _one_vs_rest(self, features, indicator: np.ndarray, class_weight) -> tuple[np.ndarray, np.ndarray, str]:
        """One binary model per label column, each reduced to the log-odds of its label (row 'yes' minus row 'no')."""
        rows, biases = [], []
        for column in indicator.T:
            coef, intercept, link = self._linear_model(features, np.where(column, "1", "0"), class_weight)
            if len(coef) == 2:  # a softmax over (no, yes) is a sigmoid of their difference
                coef, intercept = coef[1:] - coef[:1], intercept[1:] - intercept[:1]
            elif link == "softmax":  # one margin z, which the single-label path scores as a softmax over (-z, z)
                coef, intercept = 2 * coef, 2 * intercept
            rows.append(np.asarray(coef).ravel())
            biases.append(float(np.ravel(intercept)[0]))
        return np.vstack(rows), np.asarray(biases), "independent"

    def _predict_proba(self, texts: list[Text]) -> np.ndarray:
        features = self.vectorizer_.transform([join_pair(t) for t in texts])
        return LINKS[self.link_](features @ self.coef_.T + self.intercept_)

    def _save_state(self, directory: Path) -> None:
        arrays = {"coef": self.coef_, "intercept": self.intercept_}
        if isinstance(self.vectorizer_, TfidfVectorizer):
            arrays["idf"] = self.vectorizer_.idf_
        # safetensors writes the raw buffer: a Fortran-ordered array (liblinear's coef_) would come back transposed.
        save_file({name: np.ascontiguousarray(array) for name, array in arrays.items()}, str(directory / ARRAYS_FILE))
        write_json(directory / VOCABULARY_FILE, self.vectorizer_.get_feature_names_out())

    def _load_state(self, directory: Path) -> None:
        if (directory / PICKLE_FILE).exists():
            raise ModelError(
                f"{directory / PICKLE_FILE} was saved by an older tunetext in a format that can run code when "
                f"loaded (pickle), so tunetext will not load it. Retrain the model: "
                f"`tunetext train --method {self.name} --data DATA --out {directory}`."
            )
        arrays = load_file(str(directory / ARRAYS_FILE))
        # A fixed vocabulary and the saved idf weights give the fitted vectoriser's features exactly.
        self.vectorizer_ = self._vectorizer().set_params(vocabulary=read_json(directory / VOCABULARY_FILE))
        if "idf" in arrays:
            self.vectorizer_.idf_ = arrays["idf"]
        self.coef_, self.intercept_ = arrays["coef"], arrays["intercept"]
        self.link_ = read_json(directory / METADATA_FILE)["link"]

    def _metadata(self) -> dict:
        return {**super()._metadata(), "link": self.link_}


def _can_calibrate(calibration_labels: list[str] | None, labels: list[str]) -> bool:
    """Platt scaling needs every class of `labels` at least MIN_PER_CLASS_TO_CALIBRATE times in `calibration_labels`."""
    if calibration_labels is None or not len(calibration_labels):
        return False
    names, counts = np.unique(calibration_labels, return_counts=True)
    return len(names) == len(set(labels)) and counts.min() >= MIN_PER_CLASS_TO_CALIBRATE


def _distinct_rows(features: sparse.csr_matrix, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The first of each distinct (feature row, label) pair and its count: ~1 s per 400k rows."""
    first: dict[tuple, int] = {}
    counts = np.zeros(len(labels), dtype=np.int64)
    for i, (start, end, label) in enumerate(zip(features.indptr[:-1], features.indptr[1:], labels)):
        counts[first.setdefault((features.indices[start:end].tobytes(), features.data[start:end].tobytes(), label), i)] += 1
    rows = np.fromiter(first.values(), dtype=np.int64, count=len(first))
    return rows, counts[rows].astype(np.float64)


def _fit_distinct(model, features: sparse.csr_matrix, labels, class_weight=None):
    """`model` fitted on the distinct (row, label) pairs, each weighted by its count. The SVM and the logistic
    regressions sum one loss term per row, so this is the same objective, in a fraction of the time on files of
    repeated texts (retweets, boilerplate; 6.4x fewer rows on health500k); no help when every text is distinct.
    'balanced' class weights are computed from all the rows, as a fit on every row would, and multiply the counts
    (a class weight scales each of its rows' loss, as a sample weight does)."""
    labels = np.asarray(labels)
    rows, weights = _distinct_rows(features, labels)
    if class_weight == "balanced":
        classes, encoded = np.unique(labels, return_inverse=True)
        weights = weights * compute_class_weight("balanced", classes=classes, y=labels)[encoded[rows]]
    return model.set_params(class_weight=None).fit(features[rows], labels[rows], sample_weight=weights)


def _calibration_folds(labels: list[str], wanted: int = 3) -> int:
    """Cross-validated calibration needs every class in every fold: at most the smallest class count."""
    return max(2, min(wanted, min(np.unique(labels, return_counts=True)[1])))


@register("tfidf-svm")
class TfidfSVM(_SparseLinearMethod):
    """TF-IDF + linear SVM, with probabilities from Platt scaling: on out-of-fold margins, or from
    HELD_OUT_CALIBRATION_ROWS training texts on, on the validation split (one SVM fit instead of k + 1).

    Parameters
    ----------
    C
        Inverse regularisation strength of the SVM.
    class_weight
        None, 'balanced' (classes weighted inversely to their frequency) or 'auto' (whichever of the two scores
        the higher macro-F1 on the validation split).
    """

    search_space = {"C": {"low": 0.01, "high": 100.0, "log": True}, "ngram_range": NGRAM_CHOICES}

    def __init__(self, *, C: float = 1.0, ngram_range=(1, 2), min_df: int = 1, max_features: int | None = None,
                 class_weight: str | None = None):
        super().__init__(ngram_range=ngram_range, min_df=min_df, max_features=max_features)
        self.C = C
        self.class_weight = class_weight

    def _linear_model(self, features, labels, class_weight=None, held_out=None):
        svm = LinearSVC(C=self.C, class_weight=class_weight)
        if len(labels) >= HELD_OUT_CALIBRATION_ROWS and _can_calibrate(held_out and held_out[1], labels):
            # Platt scaling on the final SVM's own held-out margins: one SVM fit instead of k + 1.
            _fit_distinct(svm, features, labels, class_weight)
            calibrated = CalibratedClassifierCV(FrozenEstimator(svm), method="sigmoid")
            calibrated.fit(*held_out)
        elif _can_calibrate(labels, labels):
            calibrated = CalibratedClassifierCV(svm, cv=_calibration_folds(labels), method="sigmoid", ensemble=False)
            calibrated.fit(features, labels)  # ensemble=False: one SVM on all data, Platt on out-of-fold margins
        else:
            svm.fit(features, labels)
            return svm.coef_, svm.intercept_, "softmax"  # argmax = the SVM's own decision
        (fitted,) = calibrated.calibrated_classifiers_
        a = np.array([sigmoid.a_ for sigmoid in fitted.calibrators])
        b = np.array([sigmoid.b_ for sigmoid in fitted.calibrators])
        # Platt scaling, expit(-(a * margin + b)), is a sigmoid of another linear score: fold a and b in.
        return -a[:, None] * fitted.estimator.coef_, -(a * fitted.estimator.intercept_ + b), "sigmoid"


@register("tfidf-logreg")
class TfidfLogReg(_SparseLinearMethod):
    """TF-IDF + multinomial logistic regression: calibrated probabilities by construction.

    `class_weight="balanced"` by default: it had the higher validation macro-F1 on all three skewed catalog
    sets measured (sms-spam +0.1, trec6 +1.5, reuters-r8 +3.5 points; benchmarks/results/skew.json), and on
    balanced labels its weights are all about 1.

    Parameters
    ----------
    C
        Inverse L2 regularisation strength of the logistic regression.
    class_weight
        None, 'balanced' (classes weighted inversely to their frequency) or 'auto' (whichever of the two scores
        the higher macro-F1 on the validation split).
    """

    search_space = {"C": {"low": 0.1, "high": 1000.0, "log": True}, "ngram_range": NGRAM_CHOICES}

    def __init__(self, *, C: float = 30.0, ngram_range=(1, 2), min_df: int = 1, max_features: int | None = None,
                 class_weight: str | None = "balanced"):
        super().__init__(ngram_range=ngram_range, min_df=min_df, max_features=max_features)
        self.C = C
        self.class_weight = class_weight

    def _linear_model(self, features, labels, class_weight=None, held_out=None):
        # newton-cg: 20x faster than lbfgs on sparse n-gram features at equal accuracy (measured on trec6).
        tol = 1e-3 if len(labels) >= LOOSE_TOLERANCE_ROWS else 1e-4
        model = _fit_distinct(LogisticRegression(C=self.C, solver="newton-cg", tol=tol, max_iter=1000), features,
                              labels, class_weight)
        return model.coef_, model.intercept_, "softmax" if len(model.classes_) > 2 else "sigmoid"


@register("tfidf-nb")
class TfidfNB(_SparseLinearMethod):
    """TF-IDF + multinomial naive Bayes: the fastest baseline, strong with very little data.

    Parameters
    ----------
    alpha
        Additive (Laplace/Lidstone) smoothing of the term counts.
    """

    search_space = {"alpha": {"low": 0.001, "high": 1.0, "log": True}, "ngram_range": NGRAM_CHOICES}

    def __init__(self, *, alpha: float = 0.05, ngram_range=(1, 2), min_df: int = 1, max_features: int | None = None):
        super().__init__(ngram_range=ngram_range, min_df=min_df, max_features=max_features)
        self.alpha = alpha

    def _linear_model(self, features, labels, class_weight=None, held_out=None):
        model = MultinomialNB(alpha=self.alpha).fit(features, labels)
        # log P(class | x) = log prior + x · log P(term | class) + a constant: linear in x.
        return model.feature_log_prob_, model.class_log_prior_, "softmax"


@register("nbsvm")
class NBSVM(_SparseLinearMethod):
    """NB-SVM (Wang & Manning 2012): binarised n-gram counts scaled by naive Bayes log-count ratios.

    One-vs-rest: each class gets its own ratio vector r and a logistic regression on x ∘ r
    (the logistic variant is as accurate as the SVM and gives probabilities directly).

    Parameters
    ----------
    C
        Inverse L2 regularisation strength of each class's logistic regression.
    alpha
        Smoothing of the naive Bayes log-count ratios.
    """

    search_space = {"C": {"low": 0.1, "high": 100.0, "log": True}, "ngram_range": NGRAM_CHOICES}

    def __init__(self, *, C: float = 4.0, alpha: float = 1.0, ngram_range=(1, 2), min_df: int = 1,
                 max_features: int | None = None):
        super().__init__(ngram_range=ngram_range, min_df=min_df, max_features=max_features)
        self.C = C
        self.alpha = alpha

    def _vectorizer(self):
        return CountVectorizer(ngram_range=tuple(self.ngram_range), min_df=self.min_df,
                               max_features=self.max_features, binary=True, strip_accents="unicode")

    def _linear_model(self, features, labels, class_weight=None, held_out=None):
        labels = np.asarray(labels)
        classes = np.unique(labels)
        rows, weights = _distinct_rows(features, labels)  # as in _fit_distinct, once for every class
        distinct = features[rows]
        coef, intercept = [], []
        for label in classes[1:] if len(classes) == 2 else classes:
            positive = labels == label
            p = self.alpha + np.asarray(features[positive].sum(axis=0)).ravel()
            q = self.alpha + np.asarray(features[~positive].sum(axis=0)).ravel()
            ratio = np.log((p / p.sum()) / (q / q.sum()))
            model = LogisticRegression(C=self.C, solver="liblinear").fit(
                distinct.multiply(ratio).tocsr(), positive[rows], sample_weight=weights)
            coef.append(ratio * model.coef_[0])  # (x ∘ r) · w = x · (r ∘ w)
            intercept.append(model.intercept_[0])
        return np.array(coef), np.array(intercept), "sigmoid"
