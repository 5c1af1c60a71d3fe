"""Intent classifier: TF-IDF over lemmas (with entity placeholders) and character n-grams, then a
multinomial logistic regression, whose probabilities are the confidences.

scikit-learn trains it (a few seconds, once per version of the training data); what is cached on disk,
keyed by a hash of the examples, is only the vocabularies and weights, and `predict` runs on numpy
alone — so a process that parses never imports scikit-learn (seconds of start-up on a busy machine).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.nlu.training_data import Example

log = logging.getLogger(__name__)
MODEL_VERSION = "intent-lr-5"
_CHAR_NGRAMS = (2, 5)
_C = 20.0
_SPACES = re.compile(r"\s\s+")


def _lemma_part(doc: str) -> str:
    return doc.split("\t", 1)[0]


def _surface_part(doc: str) -> str:
    return doc.split("\t", 1)[-1]


def lemma_terms(doc: str) -> list[str]:
    """Word uni- and bigrams of the lemma part, as scikit-learn's word analyzer makes them."""
    words = re.findall(r"\S+", _lemma_part(doc))
    terms = list(words)
    terms += [" ".join(words[k : k + 2]) for k in range(len(words) - 1)]
    return terms


def char_terms(doc: str) -> list[str]:
    """Character n-grams inside word boundaries, as scikit-learn's "char_wb" analyzer makes them."""
    terms: list[str] = []
    low, high = _CHAR_NGRAMS
    for word in _SPACES.sub(" ", _surface_part(doc)).split():
        padded = f" {word} "
        for n in range(low, high + 1):
            offset = 0
            terms.append(padded[offset : offset + n])
            while offset + n < len(padded):
                offset += 1
                terms.append(padded[offset : offset + n])
            if offset == 0:
                break
    return terms


@dataclass
class IntentClassifier:
    """Vocabularies, idf weights and the regression's coefficients: all `predict` needs."""

    labels: list[str]
    lemma_vocab: dict[str, int]
    lemma_idf: np.ndarray
    char_vocab: dict[str, int]
    char_idf: np.ndarray
    coef: np.ndarray  # classes × (lemma features + char features)
    intercept: np.ndarray

    def features(self, doc: str) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and values of the document's TF-IDF row (both blocks L2-normalised)."""
        index: list[int] = []
        values: list[float] = []
        offset = 0
        for terms, vocab, idf in (
            (lemma_terms(doc), self.lemma_vocab, self.lemma_idf),
            (char_terms(doc), self.char_vocab, self.char_idf),
        ):
            counts = Counter(vocab[t] for t in terms if t in vocab)
            block = [(k, (1.0 + math.log(c)) * float(idf[k])) for k, c in counts.items()]
            norm = math.sqrt(sum(v * v for _, v in block)) or 1.0
            index.extend(offset + k for k, _ in block)
            values.extend(v / norm for _, v in block)
            offset += len(vocab)
        return np.asarray(index, dtype=np.int64), np.asarray(values, dtype=np.float64)

    def predict(self, doc: str) -> list[tuple[str, float]]:
        """All intents with probabilities, best first."""
        index, values = self.features(doc)
        scores = self.coef[:, index] @ values + self.intercept
        scores = np.exp(scores - scores.max())
        probs = scores / scores.sum()
        order = np.argsort(probs)[::-1]
        return [(self.labels[k], float(probs[k])) for k in order]


def _vectorizers() -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    lemmas = TfidfVectorizer(analyzer=lemma_terms, sublinear_tf=True, lowercase=False)
    chars = TfidfVectorizer(analyzer=char_terms, sublinear_tf=True, lowercase=False)
    return lemmas, chars


def train(docs: list[str], intents: list[str]) -> IntentClassifier:
    from scipy.sparse import hstack
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    lemmas, chars = _vectorizers()
    matrix = hstack([lemmas.fit_transform(docs), chars.fit_transform(docs)]).tocsr()
    model = LogisticRegression(C=_C, max_iter=3000)
    # One BLAS thread: the model is small, and OpenBLAS's own worker pool, started from a service's
    # background thread next to the event loop, was seen spinning for minutes instead of seconds.
    with threadpool_limits(limits=1):
        model.fit(matrix, intents)
    return IntentClassifier(
        labels=[str(c) for c in model.classes_],
        lemma_vocab={str(k): int(v) for k, v in lemmas.vocabulary_.items()},
        lemma_idf=lemmas.idf_.astype(np.float64),
        char_vocab={str(k): int(v) for k, v in chars.vocabulary_.items()},
        char_idf=chars.idf_.astype(np.float64),
        coef=np.ascontiguousarray(model.coef_, dtype=np.float64),
        intercept=model.intercept_.astype(np.float64),
    )


def cache_key(sources: list[Path]) -> str:
    """Hash of the training files and of the code that turns them into features (the extractors)."""
    digest = hashlib.sha256(MODEL_VERSION.encode())
    for path in sorted(sources):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def load_or_train(
    key: str, cache_dir: Path | None, training: Callable[[], tuple[list[Example], list[str]]]
) -> IntentClassifier:
    """The cached classifier for `key`, or one trained from `training()` (and then cached)."""
    path = cache_dir / f"nlu-intents-{key}.npz" if cache_dir else None
    if path is not None and path.exists():
        try:
            return _load(path)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("nlu cache unreadable, retraining", extra={"path": str(path), "error": str(exc)})
    started = time.perf_counter()
    examples, docs = training()
    model = train(docs, [e.intent for e in examples])
    log.info(
        "nlu classifier trained",
        extra={"examples": len(examples), "seconds": round(time.perf_counter() - started, 2)},
    )
    if path is not None:
        _store(model, path)
    return model


# The cache is plain arrays (no pickle: nothing in it can run code, and loading takes milliseconds);
# vocabularies are stored as one newline-joined string each, their order giving the column numbers.


def _joined(vocab: dict[str, int]) -> np.ndarray:
    terms = sorted(vocab, key=vocab.__getitem__)
    return np.frombuffer("\n".join(terms).encode("utf-8"), dtype=np.uint8)


def _split(data: np.ndarray) -> dict[str, int]:
    text = data.tobytes().decode("utf-8")
    return {term: k for k, term in enumerate(text.split("\n"))} if text else {}


def _store(model: IntentClassifier, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(
            f"{path.stem}.{time.monotonic_ns()}.tmp.npz"
        )  # concurrent trainers never collide
        np.savez(
            tmp,
            labels=_joined({label: k for k, label in enumerate(model.labels)}),
            lemma_vocab=_joined(model.lemma_vocab),
            lemma_idf=model.lemma_idf,
            char_vocab=_joined(model.char_vocab),
            char_idf=model.char_idf,
            coef=model.coef,
            intercept=model.intercept,
        )
        tmp.replace(path)
    except OSError as exc:
        log.warning("nlu cache not writable", extra={"path": str(path), "error": str(exc)})


def _load(path: Path) -> IntentClassifier:
    with np.load(path, allow_pickle=False) as data:
        return IntentClassifier(
            labels=list(_split(data["labels"])),
            lemma_vocab=_split(data["lemma_vocab"]),
            lemma_idf=data["lemma_idf"],
            char_vocab=_split(data["char_vocab"]),
            char_idf=data["char_idf"],
            coef=data["coef"],
            intercept=data["intercept"],
        )
