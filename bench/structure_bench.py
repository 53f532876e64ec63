"""Benchmark: how well the structure check separates kept from changed products, and its time per
1024x1024 pair (issue 17, item 6). The pairs are tests/structure_pairs.py's; the threshold is
mockup.imaging.structure.WARNING_BELOW.

    .venv/bin/python bench/structure_bench.py [--repeat 5]
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import row, timed  # noqa: E402
from mockup.imaging.structure import WARNING_BELOW, structure_score  # noqa: E402
from tests import structure_pairs  # noqa: E402


def separation() -> None:
    kept, changed = [], []
    for pair in structure_pairs.pairs():
        score = structure_score(structure_pairs.render(pair.source), structure_pairs.render(pair.result),
                                structure_pairs.print_mask(pair.source)).score
        (kept if pair.kept else changed).append((score, pair.name))
    low_kept, high_changed = min(kept), max(changed)
    print(f"pairs: {len(kept)} kept, {len(changed)} changed")
    print(f"lowest kept score:     {low_kept[0]:.3f} ({low_kept[1]})")
    print(f"highest changed score: {high_changed[0]:.3f} ({high_changed[1]})")
    print(f"threshold: {WARNING_BELOW:.3f}; margins {low_kept[0] - WARNING_BELOW:+.3f} (kept) and "
          f"{WARNING_BELOW - high_changed[0]:+.3f} (changed)")
    wrong = [name for score, name in kept if score < WARNING_BELOW] + [name for score, name in changed
                                                                       if score >= WARNING_BELOW]
    print(f"misjudged: {len(wrong)} {wrong}")


def speed(repeat: int) -> None:
    base = replace(structure_pairs.BASES[1], size=(1024, 1024))
    source = structure_pairs.render(base)
    result = structure_pairs.render(replace(base, seed=4, crop=(0.02, 0.0, 0.02, 0.0)))
    mask = structure_pairs.print_mask(base)
    print(row("structure check, 1024x1024 pair", timed(lambda: structure_score(source, result, mask), repeat)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    separation()
    speed(args.repeat)
