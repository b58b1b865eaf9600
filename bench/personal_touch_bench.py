"""Time the own-words measure (services/personal_touch.py) on letters up to the body's cap.

    .venv/bin/python bench/personal_touch_bench.py

It measures the real campaign letter (seed.BODY, filled in for an MP) against letters made from
it: unchanged, with a paragraph of the supporter's added, and ones of 10,000 characters (the
letter form's cap) half ours and wholly the supporter's. It prints the median and worst of 200
runs of each; the letter step measures once per submit, the page once per render.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mp_mailer.services.personal_touch import measure  # noqa: E402
from mp_mailer.services.seed import BODY  # noqa: E402

RUNS = 200
CAP = 10_000
WORDS = [
    "my",
    "family",
    "tibet",
    "lhasa",
    "monastery",
    "years",
    "ago",
    "prison",
    "cousin",
    "letter",
    "write",
    "because",
    "friends",
    "afraid",
    "police",
    "camera",
    "phone",
    "school",
    "language",
    "prayer",
    "mother",
    "father",
    "village",
    "visit",
    "never",
    "again",
    "home",
    "safe",
    "hope",
    "please",
    "you",
    "constituency",
    "vote",
    "sanctions",
    "minister",
    "ask",
    "why",
    "now",
]


def own_text(length: int, rng: random.Random) -> str:
    sentences: list[str] = []
    while sum(len(s) + 1 for s in sentences) < length:
        words = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
        sentences.append(" ".join(words).capitalize() + ".")
    return " ".join(sentences)[:length]


def main() -> None:
    rng = random.Random(2026)
    ours = BODY.replace("{{ mp.address_as }}", "Ms Abbott").replace(
        "{{ constituency }}", "Hackney North and Stoke Newington"
    )
    letters = {
        "our letter unchanged": ours,
        "ours plus a paragraph": ours + "\n\n" + own_text(400, rng),
        "10,000 characters, half ours": (ours * 5)[: CAP // 2] + own_text(CAP // 2, rng),
        "10,000 characters, all theirs": own_text(CAP, rng),
    }
    print(f"Campaign letter: {len(ours):,} characters; {RUNS} runs each")
    for name, letter in letters.items():
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            touch = measure(letter, ours)
            times.append((time.perf_counter() - started) * 1000)
        print(
            f"{name:32} {len(letter):6,} chars  median {statistics.median(times):5.2f} ms  "
            f"worst {max(times):5.2f} ms  ({touch.own_sentences} own sentences, "
            f"{touch.percent}% own words)"
        )


if __name__ == "__main__":
    main()
