"""The text model's training steps: features once, classifiers on the older cases, then
extended to all cases by one more epoch; a label only the newest cases have is learnt too."""

from __future__ import annotations

import random
from collections import Counter

from intelligence.services.textmodel import TextModel

WORDS = {
    "SANI": ["垃圾", "堆放", "清运", "垃圾桶"],
    "MUNI": ["路灯", "不亮", "井盖", "破损"],
    "ENF": ["占道", "经营", "摊贩", "噪音"],
    "WATER": ["下水道", "堵塞", "污水", "冒水"],
}
PLACES = ["人民路", "解放街", "幸福小区", "中心广场", "东门市场"]


def texts(units: list[str], seed: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(PLACES) + "".join(rng.sample(WORDS[u], 2)) for u in units]


def fitted(units: list[str], cut: int):
    data = texts(units, 1)
    categories = [f"s/event/{u}" for u in units]
    model = TextModel()
    x = model.fit_features(data)
    model.fit_classifiers(x[:cut], units[:cut], categories[:cut])
    trial = model.unit_clf
    assert trial.coef_ is not None  # kept for the next epoch
    trial_t = trial.t_
    model.continue_classifiers(x, units, categories)
    return model, trial, trial_t


def test_continued_classifiers_rank_unseen_texts_and_keep_no_coefficients():
    units = [random.Random(i).choice(sorted(WORDS)) for i in range(400)]
    model, trial, trial_t = fitted(units, 320)
    assert model.counts["unit"] == Counter(units)
    assert model.unit_clf.coef_ is None and model.category_clf.coef_ is None
    # The trial went on for one epoch over all 400 cases, its learning-rate schedule too.
    assert model.unit_clf is trial and model.unit_clf.t_ == trial_t + 400
    for unit in WORDS:
        for text in texts([unit] * 5, 7):
            prediction = model.predict(text)
            assert prediction.units[0].label == unit, (text, prediction.units)
            assert prediction.categories[0].label == f"s/event/{unit}"


def test_a_unit_only_in_the_newest_cases_is_learnt_from_scratch():
    old = [random.Random(i).choice(["SANI", "MUNI", "ENF"]) for i in range(300)]
    units = old + ["WATER" if i % 2 else "SANI" for i in range(100)]
    model, trial, _t = fitted(units, 300)
    assert "WATER" not in trial.classes_ and "WATER" in model.unit_clf.classes_
    assert model.unit_clf is not trial  # a fresh fit, not the trial continued
    assert model.predict("幸福小区下水道堵塞").units[0].label == "WATER"
