"""Dispatch suggestions (intelligence): training time and peak memory at 200k historical
cases, suggestion latency in-process and through the API (p50/p95).

Synthetic history: `--cases` complaint texts over `--units` units × 8 categories each, every
category with its own few words among shared everyday words, places and endings (Chinese
characters drawn from fixed pools, seeded), oldest first. Training goes through
`suggestion_model_train(data=…)`: classifiers fitted on the older 80 %, measured on the most
recent 20 %, then extended to all by one more epoch; artifact stored as a new active version
in $DATABASE_URL (the 200k texts are not written as case rows: reading them is one indexed
query, not measured here).

Latency: `dispatch_suggest` on `--runs` texts not in the history (in-process, the service as
pages and the API call it); the same texts through `POST /api/v1/suggestions/dispatch/` with
Django's test client (the whole middleware, authentication, DRF and JSON stack, no socket);
the ceiling is the bare model (`TextModel.predict`: no database, no names, no rules).

Serving: a fresh process loads the active version as a web worker does (load time, its RSS).

`--hard`: the trained model is also measured on `--hard-cases` harder texts of the same
categories, drawn apart from the history: one of the category's own words instead of two,
places, everyday words and endings that never occur in the history, in another order (jieba
cuts the own word differently among unknown neighbours). Changes to the features must not
make these worse (the usual held-out figures are easy on this synthetic data).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cityops_bench python bench/suggestions.py
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Timings, database_label, django_setup, machine_note, table

GOALS = {"in-process p95 ms": 20.0, "API p95 ms": 50.0, "training s": 120.0, "peak MB": 2048.0}
POOL = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动"
    "同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自"
    "二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日"
    "那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变"
    "条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总"
    "次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指"
    "几九区强放决西被干做必战先回则任取据处理"
)
ENDINGS = ["", "，请尽快处理", "，好几天了", "，影响出行", "。"]
HARD_ENDINGS = ["", "，麻烦看一下", "，谢谢", "！", "，希望有人管管"]


def words(rng: random.Random, n: int, size: int = 2) -> list[str]:
    return ["".join(rng.choice(POOL) for _ in range(size)) for _ in range(n)]


def vocabulary(rng: random.Random, units: int):
    common = words(rng, 400)
    places = [w + rng.choice(["街", "路", "小区", "广场", "市场"]) for w in words(rng, 300)]
    categories = []
    for u in range(units):
        for c in range(8):
            categories.append((f"U{u:02d}", f"bench/event/{u:02d}{c:02d}", words(rng, 6)))
    return common, places, categories


def synthetic(cases: int, units: int, seed: int = 13):
    from intelligence.services.train import Dataset

    rng = random.Random(seed)
    common, places, categories = vocabulary(rng, units)
    data = Dataset([], [], [], [])
    for i in range(cases):
        unit, category, own = rng.choice(categories)
        text = (
            rng.choice(places)
            + "".join(rng.sample(own, 2))
            + "".join(rng.sample(common, rng.randint(1, 4)))
            + rng.choice(ENDINGS)
        )
        data.texts.append(text)
        data.units.append(unit)
        data.categories.append(category)
        data.refs.append(f"2026-{i:06d}")
    return data


def hard(cases: int, units: int, seed: int = 13, other: int = 7):
    """Texts of the history's categories (same `seed`) that share none of its places, everyday
    words or endings (drawn with `other`): one own word, the rest unknown, shuffled."""
    from intelligence.services.train import Dataset

    common, places, categories = vocabulary(random.Random(seed), units)
    rng = random.Random(other)
    seen = {w for _u, _c, own in categories for w in own} | set(common) | {p[:2] for p in places}
    fillers = [w for w in words(rng, 600) if w not in seen]
    places = [w + rng.choice(["巷", "胡同", "社区", "公园", "桥"]) for w in words(rng, 300)]
    places = [p for p in places if p[:2] not in seen]
    data = Dataset([], [], [], [])
    for i in range(cases):
        unit, category, own = rng.choice(categories)
        parts = [rng.choice(own), *rng.sample(fillers, rng.randint(2, 4))]
        rng.shuffle(parts)
        data.texts.append(rng.choice(places) + "".join(parts) + rng.choice(HARD_ENDINGS))
        data.units.append(unit)
        data.categories.append(category)
        data.refs.append(f"H-{i:06d}")
    return data


SERVING = """
import re, sys, time
from pathlib import Path
sys.path.insert(0, "bench")
from harness import django_setup
django_setup()
from intelligence.services.suggest import active_model
start = time.perf_counter()
active_model()
status = Path("/proc/self/status").read_text()
print(time.perf_counter() - start, int(re.search(r"VmRSS:\\s+(\\d+)", status)[1]) / 1024)
"""


def serving() -> tuple[float, float]:
    """Seconds to load the active version and the RSS (MB) of a fresh process holding it
    (/proc: getrusage's peak would be the parent's, inherited across fork and exec)."""
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", SERVING], cwd=root, check=True, capture_output=True, text=True
    )
    seconds, rss = out.stdout.split()[-2:]
    return float(seconds), float(rss)


def figures(label: str, metrics: dict) -> str:
    u, c = metrics["unit"], metrics["category"]
    return (
        f"{label}: units top-1 {u['top1']:.3f} top-3 {u['top3']:.3f} (baseline {u['baseline']:.3f}"
        f" / {u['baseline3']:.3f}); categories top-1 {c['top1']:.3f} top-3 {c['top3']:.3f} "
        f"(baseline {c['baseline']:.3f} / {c['baseline3']:.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--units", type=int, default=30)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--hard", action="store_true", help="also measure the harder texts")
    parser.add_argument("--hard-cases", type=int, default=20_000)
    args = parser.parse_args()
    django_setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from intelligence.services.suggest import active_model, dispatch_suggest

    print(f"database {database_label()}; {machine_note()}")
    data = synthetic(args.cases, args.units)
    unseen = synthetic(args.runs, args.units, seed=99).texts
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from intelligence.services.train import suggestion_model_train

    start, cpu = time.perf_counter(), time.process_time()
    model = suggestion_model_train(data=data)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"training: {model.cases} cases ({model.units} units, {model.categories} categories), "
        f"{seconds:.1f} s (CPU {cpu:.1f} s), peak RSS {peak:.0f} MB (process before training "
        f"{rss_before:.0f} MB), artifact {model.size / 1e6:.1f} MB"
    )
    print(figures(f"held-out {model.held_out} (most recent)", model.metrics))
    load_seconds, serving_rss = serving()
    print(f"serving: a fresh process loads it in {load_seconds:.1f} s, RSS {serving_rss:.0f} MB")
    _version, text_model = active_model()  # loads the artifact once (timed apart)
    if args.hard:
        from intelligence.services.train import evaluate

        start = time.perf_counter()
        metrics = evaluate(text_model, hard(args.hard_cases, args.units))
        label = f"hard {args.hard_cases} ({time.perf_counter() - start:.1f} s)"
        print(figures(label, metrics))
    texts = iter(unseen * 100)
    ceiling = Timings.measure(lambda: text_model.predict(next(texts)), args.runs)
    service = Timings.measure(lambda: dispatch_suggest(text=next(texts)), args.runs)
    user, _ = get_user_model().objects.get_or_create(username="bench-suggest")
    client = Client()
    client.force_login(user)

    def api() -> None:
        response = client.post(
            "/api/v1/suggestions/dispatch/",
            {"text": next(texts)},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content

    through_api = Timings.measure(api, args.runs)
    rows = [
        ("bare model (ceiling)", ceiling.p50, ceiling.p95, "", ""),
        ("in-process service", service.p50, service.p95, 20.0, service.p95 / ceiling.p95),
        (
            "API (test client)",
            through_api.p50,
            through_api.p95,
            50.0,
            through_api.p95 / ceiling.p95,
        ),
    ]
    print(
        table(
            ["suggestion", "p50 ms", "p95 ms", "goal p95 ms", "p95 × ceiling"],
            [
                [n, f"{a:.1f}", f"{b:.1f}", g and f"{g:.0f}", r and f"{r:.1f}"]
                for n, a, b, g, r in rows
            ],
        )
    )
    print(
        f"goals: training {seconds:.0f} s ≤ 120 s: {'met' if seconds <= 120 else 'MISSED'}; "
        f"peak {peak:.0f} MB ≤ 2048 MB: {'met' if peak <= 2048 else 'MISSED'}; "
        f"in-process p95 {'met' if service.p95 <= 20 else 'MISSED'}; "
        f"API p95 {'met' if through_api.p95 <= 50 else 'MISSED'}"
    )
    print(f"after: {machine_note()}")


if __name__ == "__main__":
    main()
