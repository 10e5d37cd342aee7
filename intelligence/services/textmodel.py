"""The replaceable part: a text classifier for units and categories with its explanations.

Anything with `fit(...)`, `predict(text, k)` and `dumps()` / `loads()` like `TextModel` can take
its place; the rest of the app (training, suggestions, API, pages) only sees `Prediction`.

Features: TF-IDF over jieba words plus TF-IDF over character 2–3-grams (robust to words jieba
does not know and to English; single characters cost non-zeros and, on unseen wording, hurt:
bench/README.md), each block l2-normalised; classifiers: linear (logistic loss, stochastic
gradient); nearest past cases by cosine similarity over the same features, stored column by
column. Each text is segmented by jieba once, for training and evaluation alike. Features,
weights and neighbours are float32 (half the memory and artifact; float64 weights of an older
version loaded as float32 give the same probabilities within 1e-6).
"""

from __future__ import annotations

import logging
import pickle
import re
import warnings
import zlib
from collections import Counter
from dataclasses import dataclass, field

import jieba
import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier

jieba.setLogLevel(logging.WARNING)

ALGORITHM = "jieba words + char 2-3-grams TF-IDF, logistic SGD, cosine neighbours"
WORD = re.compile(r"\w", re.UNICODE)
WORDS_ONLY = re.compile(r"\w+", re.UNICODE)
SNIPPET = 60


def words(text: str) -> list[str]:
    """jieba's words of a text, lower-cased, without punctuation and spaces."""
    return [w for w in jieba.lcut(text.lower()) if WORD.search(w)]


def passthrough(tokens: list[str]) -> list[str]:
    return tokens


@dataclass
class Ranked:
    label: str
    score: float
    terms: list[str] = field(default_factory=list)  # the words that weighed most, first first


@dataclass
class Neighbour:
    ref: str  # the case number
    similarity: float
    unit: str
    category: str | None
    text: str


@dataclass
class Prediction:
    units: list[Ranked]
    categories: list[Ranked]
    neighbours: list[Neighbour]


class TextModel:
    def __init__(self, *, min_df: int = 1, max_features: int = 60000) -> None:
        # float32 features: the classifiers learn in float32 (a fifth faster than float64 at
        # 200k cases, the same held-out figures) and the weights come out float32.
        self.word_vec = TfidfVectorizer(
            analyzer=passthrough,
            min_df=min_df,
            max_features=max_features,
            sublinear_tf=True,
            dtype=np.float32,
        )
        self.char_vec = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 3),
            min_df=min_df,
            max_features=max_features,
            sublinear_tf=True,
            lowercase=True,
            dtype=np.float32,
        )
        self.unit_clf: SGDClassifier | None = None
        self.category_clf: SGDClassifier | None = None
        self.single: dict[str, str] = {}  # task → its only label when the history has one
        self.terms: np.ndarray | None = None
        self.neighbours: sparse.csr_matrix | None = None
        self.refs: list[tuple[str, str, str | None, str]] = []
        self.counts: dict[str, Counter] = {}  # label frequencies in training, per task

    # --- training ---------------------------------------------------------------------------

    def fit(
        self,
        texts: list[str],
        units: list[str],
        categories: list[str | None],
        refs: list[str],
        *,
        tokens: list[list[str]] | None = None,
        neighbours: int = 50000,
    ) -> TextModel:
        """Learn from past cases (oldest first); the most recent `neighbours` are kept for
        the similar-case search."""
        x = self.fit_features(texts, tokens)
        self.fit_classifiers(x, units, categories)
        self.drop_coefficients()
        self.keep_neighbours(x, texts, units, categories, refs, neighbours=neighbours)
        return self

    def fit_features(
        self, texts: list[str], tokens: list[list[str]] | None = None
    ) -> sparse.csr_matrix:
        """Learn the vocabularies and weights of the features; the texts' features."""
        tokens = tokens if tokens is not None else [words(t) for t in texts]
        x = sparse.hstack(
            [self.word_vec.fit_transform(tokens), self.char_vec.fit_transform(texts)], format="csr"
        )
        self.terms = np.concatenate(
            [self.word_vec.get_feature_names_out(), self.char_vec.get_feature_names_out()]
        )
        return x

    def fit_classifiers(
        self, x: sparse.csr_matrix, units: list[str], categories: list[str | None]
    ) -> TextModel:
        """The unit and category classifiers on these rows' features (`fit_features`)."""
        self.counts = {"unit": Counter(units), "category": Counter(c for c in categories if c)}
        self.single = {}
        self.unit_clf = self._classifier(x, np.array(units), "unit")
        known = [i for i, c in enumerate(categories) if c]
        self.category_clf = (
            self._classifier(x[known], np.array([categories[i] for i in known]), "category")
            if known
            else None
        )
        return self

    def continue_classifiers(
        self,
        x: sparse.csr_matrix,
        units: list[str],
        categories: list[str | None],
        *,
        epochs: int = 1,
    ) -> TextModel:
        """Extend classifiers fitted on the older rows to all of them (`x`: every row, the
        fitted ones first): one more epoch over all rows, continuing the learning-rate
        schedule, instead of a fit from scratch (3 epochs). A task whose labels are not
        the same as the fitted ones' (a unit or category only in the newest rows) is
        fitted from scratch."""
        old = (self.unit_clf, self.category_clf, dict(self.single))
        self.counts = {"unit": Counter(units), "category": Counter(c for c in categories if c)}
        known = [i for i, c in enumerate(categories) if c]
        tasks = (
            ("unit", old[0], x, np.array(units)),
            ("category", old[1], x[known], np.array([categories[i] for i in known])),
        )
        for task, clf, rows, y in tasks:
            if not len(y):
                fitted = None
            elif clf is not None and np.array_equal(np.unique(y), clf.classes_):
                fitted = self._continue(clf, rows, y, epochs)
            elif clf is None and old[2].get(task) and set(y) == {old[2][task]}:
                continue  # still a single label
            else:
                self.single.pop(task, None)
                fitted = self._classifier(rows, y, task)
            setattr(self, f"{task}_clf", fitted)
        self.drop_coefficients()
        return self

    def keep_neighbours(
        self,
        x: sparse.csr_matrix,
        texts: list[str],
        units: list[str],
        categories: list[str | None],
        refs: list[str],
        *,
        neighbours: int = 50000,
    ) -> TextModel:
        """The most recent `neighbours` cases for the similar-case search."""
        keep = slice(max(0, len(texts) - neighbours), len(texts))
        self.neighbours = by_feature(x[keep])
        self.refs = [
            (refs[i], units[i], categories[i], texts[i][:SNIPPET])
            for i in range(*keep.indices(len(texts)))
        ]
        return self

    def _classifier(self, x, y: np.ndarray, task: str) -> SGDClassifier | None:
        labels = np.unique(y)
        if len(labels) == 1:
            self.single[task] = str(labels[0])
            return None
        clf = SGDClassifier(
            loss="log_loss",
            alpha=2e-6,
            max_iter=15,
            tol=1e-3,
            n_iter_no_change=1,
            random_state=0,
            n_jobs=2,
        )
        with warnings.catch_warnings():
            # A few epochs are enough for ranking; full convergence costs minutes at 200k. An
            # epoch that improves the loss by less than tol ends it (after 2 epochs at 200k;
            # waiting for a second such epoch gave the same hard figures: bench/README.md).
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(x, y)
        clf.weights_ = contiguous_weights(clf.coef_)
        return clf

    @staticmethod
    def _continue(clf: SGDClassifier, x, y: np.ndarray, epochs: int) -> SGDClassifier:
        for _ in range(epochs):
            clf.partial_fit(x, y)
        clf.weights_ = contiguous_weights(clf.coef_)
        return clf

    def drop_coefficients(self) -> None:
        """Before storing: the coefficients are kept once, as `weights_` (the artifact)."""
        for clf in (self.unit_clf, self.category_clf):
            if clf is not None:
                clf.coef_ = None

    # --- use --------------------------------------------------------------------------------

    def matrix(self, texts: list[str], tokens: list[list[str]] | None = None) -> sparse.csr_matrix:
        """The features of texts (their jieba words when already segmented)."""
        tokens = tokens if tokens is not None else [words(t) for t in texts]
        return sparse.hstack(
            [self.word_vec.transform(tokens), self.char_vec.transform(texts)], format="csr"
        )

    def vector(self, text: str) -> sparse.csr_matrix:
        return self.matrix([text])

    def predict(self, text: str, k: int = 3, similar: int = 5) -> Prediction:
        x = self.vector(text)
        return Prediction(
            units=self._rank(self.unit_clf, x, k, "unit"),
            categories=self._rank(self.category_clf, x, k, "category"),
            neighbours=self._similar(x, similar),
        )

    def rank_matrix(self, x: sparse.csr_matrix, task: str) -> tuple[np.ndarray, np.ndarray]:
        """Classes and their probabilities for many texts' features (`matrix`; evaluation)."""
        clf = self.unit_clf if task == "unit" else self.category_clf
        if clf is None:
            label = self.single.get(task)
            return np.array([label]), np.ones((x.shape[0], 1))
        return clf.classes_, self._proba(clf, x)

    def _rank(self, clf, x, k: int, task: str) -> list[Ranked]:
        if clf is None:
            label = self.single.get(task)
            return [Ranked(label, 1.0, [])] if label else []
        proba = self._proba(clf, x)[0]
        best = np.argsort(-proba)[:k]
        return [Ranked(str(clf.classes_[i]), float(proba[i]), self._terms(clf, x, i)) for i in best]

    @staticmethod
    def _proba(clf, x) -> np.ndarray:
        """What SGDClassifier.predict_proba gives for the logistic loss (one-vs-rest
        sigmoids, normalised), from the contiguous weights."""
        # In the weights' type: a float64 row times float32 weights would copy the weights.
        scores = np.asarray(x.astype(clf.weights_.dtype, copy=False) @ clf.weights_)
        scores = scores.astype(np.float64) + clf.intercept_
        p = 1.0 / (1.0 + np.exp(-scores))
        if p.shape[1] == 1:
            return np.hstack([1 - p, p])
        total = p.sum(axis=1, keepdims=True)
        total[total == 0] = 1
        return p / total

    def _terms(self, clf, x, row: int, n: int = 5) -> list[str]:
        """The features that pushed towards this class most: jieba's words first, character
        n-grams only when too few words weighed (one part of another is shown once)."""
        binary = clf.weights_.shape[1] == 1
        coef = clf.weights_[:, 0 if binary else row]
        if binary and row == 0:
            coef = -coef  # binary: coef_ speaks for the second class
        idx, values = x.indices, x.data * coef[x.indices]
        n_words = len(self.word_vec.vocabulary_)
        order = [j for j in np.argsort(-values) if values[j] > 0]
        picked: list[str] = []
        for words_only in (True, False):
            for j in order:
                if len(picked) >= n or (not words_only and len(picked) >= 2):
                    break
                if (idx[j] < n_words) != words_only:
                    continue
                term = str(self.terms[idx[j]]).strip()
                if len(term) < 2 or not WORDS_ONLY.fullmatch(term):
                    continue  # a character n-gram across punctuation or a space
                if any(term in p or p in term for p in picked):
                    continue
                picked.append(term)
        return picked

    def _similar(self, x, n: int) -> list[Neighbour]:
        if self.neighbours is None or not n or self.neighbours.shape[0] == 0:
            return []
        # Column by column: the product reads only the columns of the text's features, not
        # every stored case.
        sims = (x.astype(np.float32) @ self.neighbours.T).toarray().ravel() / 2
        n = min(n, len(sims))
        best = np.argpartition(-sims, n - 1)[:n]
        best = best[np.argsort(-sims[best])]
        return [
            Neighbour(self.refs[i][0], float(sims[i]), *self.refs[i][1:])
            for i in best
            if sims[i] > 0
        ]

    # --- storage ----------------------------------------------------------------------------

    def dumps(self) -> bytes:
        return zlib.compress(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL), 3)

    @staticmethod
    def loads(data: bytes) -> TextModel:
        # Artifacts come only from this installation's own database (trained here).
        model = pickle.loads(zlib.decompress(data))
        for clf in (model.unit_clf, model.category_clf):
            if clf is not None:  # versions stored before float32 had float64 weights
                clf.weights_ = contiguous_weights(clf.weights_.T)
        if model.neighbours is not None and model.neighbours.format != "csc":
            model.neighbours = by_feature(model.neighbours)  # stored row by row before
        words("预热")  # jieba reads its dictionary now, not on the first suggestion
        return model


def by_feature(x: sparse.spmatrix) -> sparse.csc_matrix:
    """Cases × features, column by column, float32: a text's similarities read only the
    columns of its own features."""
    return sparse.csc_matrix(x, dtype=np.float32)


def contiguous_weights(coef: np.ndarray) -> np.ndarray:
    """Classes × features coefficients as features × classes, C order, float32: a sparse row
    times them reads only its nnz rows (sklearn's own predict_proba copies coef_.T on every
    call: ~60 ms with 240 classes); float32 halves the memory and the artifact."""
    return np.ascontiguousarray(coef.T, dtype=np.float32)
