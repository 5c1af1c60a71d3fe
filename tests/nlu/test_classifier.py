"""The numpy-only predictor gives the probabilities scikit-learn's own pipeline gives."""

from __future__ import annotations

import numpy as np
from scipy.sparse import hstack

from voicebot.nlu import classifier
from voicebot.nlu.classifier import cache_key, load_or_train
from voicebot.nlu.training_data import Example

DOCS = {
    "affirm": ["да\tда", "да верно\tда верно", "ага\tага", "я\tя", "это я\tэто я"],
    "deny": ["нет\tнет", "нет не так\tнет не так", "неверно\tневерно"],
    "wait": ["секунда\tсекунду", "подождать\tподождите", "очки взять\tочки возьму"],
}


def _examples() -> tuple[list[Example], list[str]]:
    examples, docs = [], []
    for intent, items in DOCS.items():
        for doc in items:
            examples.append(Example(doc, intent, doc, "test"))
            docs.append(doc)
    return examples, docs


def test_numpy_predictor_matches_sklearn(monkeypatch) -> None:
    from sklearn.linear_model import LogisticRegression

    fitted: dict[str, object] = {}
    real = classifier._vectorizers

    def spy():
        lemmas, chars = real()
        fitted.update(lemmas=lemmas, chars=chars)
        return lemmas, chars

    monkeypatch.setattr(classifier, "_vectorizers", spy)
    examples, docs = _examples()
    model = classifier.train(docs, [e.intent for e in examples])
    reference = LogisticRegression(C=classifier._C, max_iter=3000)
    matrix = hstack([fitted["lemmas"].transform(docs), fitted["chars"].transform(docs)]).tocsr()
    reference.fit(matrix, [e.intent for e in examples])
    for doc in ["да да", "подождать минута\tподождите минуту", "нет\tнет, не так", "очки\tочки"]:
        ours = dict(model.predict(doc))
        row = hstack([fitted["lemmas"].transform([doc]), fitted["chars"].transform([doc])]).tocsr()
        theirs = dict(zip(reference.classes_, reference.predict_proba(row)[0], strict=True))
        assert np.allclose([ours[k] for k in theirs], list(theirs.values()), atol=1e-6)


def test_cache_is_keyed_by_the_training_data(tmp_path) -> None:
    data = tmp_path / "nlu.yml"
    data.write_text("one version", encoding="utf-8")
    trained: list[int] = []

    def training():
        trained.append(1)
        return _examples()

    first = load_or_train(cache_key([data]), tmp_path, training)
    assert len(list(tmp_path.glob("nlu-intents-*.npz"))) == 1
    again = load_or_train(cache_key([data]), tmp_path, training)  # loaded, not retrained
    assert len(trained) == 1
    assert again.labels == first.labels and np.array_equal(again.coef, first.coef)
    data.write_text("another version", encoding="utf-8")
    load_or_train(cache_key([data]), tmp_path, training)
    assert len(trained) == 2 and len(list(tmp_path.glob("nlu-intents-*.npz"))) == 2
