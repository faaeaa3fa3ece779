"""The offset to commit: the run of acknowledged offsets after the committed one, found as
Faust finds it (``faust.utils.functional.consecutive_numbers``), faster."""

import random

import pytest
from faust.utils.functional import consecutive_numbers

from streams.edge.faust.consumer import leading_run


@pytest.mark.parametrize(
    ("offsets", "run"),
    [
        ([7], 1),
        ([3, 4, 5, 6], 4),
        ([3, 4, 6, 7], 2),
        ([3, 5], 1),
        ([10, 11, 12, 13, 20], 4),
        ([0, 2, 3, 4, 5, 6, 7, 8], 1),
    ],
)
def test_the_leading_run_ends_at_the_first_gap(offsets: list[int], run: int) -> None:
    assert leading_run(offsets) == run


def test_the_leading_run_is_fausts_first_run_of_consecutive_numbers() -> None:
    rng = random.Random(7)  # noqa: S311 (test data)
    for _ in range(2000):
        start = rng.randrange(0, 1000)
        span = range(start, start + rng.randrange(1, 60))
        offsets = sorted(rng.sample(span, rng.randint(1, len(span))))
        if rng.random() < 0.5:  # most batches leave no gap: one run
            offsets = list(range(start, start + rng.randint(1, 50)))
        assert leading_run(offsets) == len(next(consecutive_numbers(offsets))), offsets
