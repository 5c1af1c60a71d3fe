"""Intent classifier: TF-IDF over lemmas (with entity placeholders) and character n-grams, then a
multinomial logistic regression, whose probabilities are the confidences.

Trained in about a second from the scenarios' examples and cached on disk keyed by a hash of them.
"""

from __future__ import annotations

import logging
import pickle
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from threadpoolctl import threadpool_limits

from voicebot.nlu.training_data import Example, fingerprint

log = logging.getLogger(__name__)
MODEL_VERSION = "intent-lr-3"


def _lemma_part(doc: str) -> str:
    return doc.split("\t", 1)[0]


def _surface_part(doc: str) -> str:
    return doc.split("\t", 1)[-1]


def _build_pipeline() -> Pipeline:
    features = FeatureUnion(
        [
            (
                "lemmas",
                TfidfVectorizer(
                    preprocessor=_lemma_part, ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+"
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    preprocessor=_surface_part, analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True
                ),
            ),
        ]
    )
    return Pipeline([("features", features), ("model", LogisticRegression(C=20.0, max_iter=3000))])


@dataclass
class IntentClassifier:
    pipeline: Pipeline
    labels: list[str]

    def predict(self, doc: str) -> list[tuple[str, float]]:
        """All intents with probabilities, best first."""
        probs = self.pipeline.predict_proba([doc])[0]
        order = np.argsort(probs)[::-1]
        return [(self.labels[k], float(probs[k])) for k in order]


def train(docs: list[str], intents: list[str]) -> IntentClassifier:
    pipeline = _build_pipeline()
    # One BLAS thread: the model is small, and OpenBLAS's own worker pool, started from a service's
    # background thread next to the event loop, was seen spinning for minutes instead of seconds.
    with threadpool_limits(limits=1):
        pipeline.fit(docs, intents)
    return IntentClassifier(pipeline, [str(c) for c in pipeline.classes_])


def load_or_train(examples: list[Example], docs: list[str], cache_dir: Path | None) -> IntentClassifier:
    key = fingerprint(examples, f"{MODEL_VERSION}:{sklearn.__version__}")
    path = cache_dir / f"nlu-intents-{key}.pkl" if cache_dir else None
    if path is not None and path.exists():
        try:
            with path.open("rb") as fh:
                model = pickle.load(fh)
            if isinstance(model, IntentClassifier):
                return model
        except (OSError, pickle.UnpicklingError, AttributeError, EOFError) as exc:
            log.warning("nlu cache unreadable, retraining", extra={"path": str(path), "error": str(exc)})
    started = time.perf_counter()
    model = train(docs, [e.intent for e in examples])
    log.info(
        "nlu classifier trained",
        extra={"examples": len(examples), "seconds": round(time.perf_counter() - started, 2)},
    )
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            with tmp.open("wb") as fh:
                pickle.dump(model, fh)
            tmp.replace(path)
        except OSError as exc:
            log.warning("nlu cache not writable", extra={"path": str(path), "error": str(exc)})
    return model
