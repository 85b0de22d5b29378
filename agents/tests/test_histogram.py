"""Duration bins and the percentiles estimated from them: within 5 % of `percentile_cont`."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from agents import histogram


def percentile_cont(values: list[int], fraction: float) -> float:
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    if position == lower:
        return float(ordered[lower])
    return ordered[lower] + (ordered[lower + 1] - ordered[lower]) * (position - lower)


def estimate(values: list[int], fractions: tuple[float, ...]) -> list[float]:
    """As the analytics do: group sums first, then only the bins of the groups they need."""
    bins = Counter(histogram.bin_of(value) for value in values)
    groups = histogram.empty_groups()
    for bin_index, count in bins.items():
        groups[histogram.group_of(bin_index)] += count
    needed = histogram.groups_needed(fractions, groups=groups)
    read = {b: n for b, n in bins.items() if histogram.group_of(b) in needed}
    return histogram.percentiles(fractions, groups=groups, bins=read)


def test_every_bin_is_narrower_than_five_percent_of_its_values():
    # then each bin's largest value is less than 5 % above its smallest, and bins cover 0..2^31-1
    assert histogram.bin_bounds(0) == (0, 0)
    for bin_index in range(1, histogram.BINS):
        low, high = histogram.bin_bounds(bin_index)
        assert high - low < 0.05 * low
        assert histogram.bin_bounds(bin_index - 1)[1] == low - 1
    assert histogram.bin_bounds(histogram.BINS - 1)[1] == histogram.MAX_DURATION_MS
    assert histogram.bin_of(histogram.MAX_DURATION_MS) == histogram.BINS - 1


@pytest.mark.parametrize("seed", range(40))
def test_estimates_are_within_five_percent_of_percentile_cont(seed):
    # given durations of all shapes: few or many, narrow or spread, with gaps
    rng = random.Random(seed)
    size = rng.choice([1, 2, 3, 10, 101, 2000])
    spread = rng.choice([0.1, 1.0, 3.0])
    values = [int(rng.lognormvariate(math.log(rng.choice([5, 800, 60_000])), spread)) for _ in range(size)]

    # when p50 and p95 are estimated from the bins
    p50, p95 = estimate(values, (0.5, 0.95))

    # then each is within 5 % of the exact figure
    assert p50 == pytest.approx(percentile_cont(values, 0.5), rel=0.05, abs=1e-9)
    assert p95 == pytest.approx(percentile_cont(values, 0.95), rel=0.05, abs=1e-9)


def test_interpolates_between_ranks_in_distant_bins():
    # given two durations far apart: the median lies between them, in no bin holding a value
    p50, p95 = estimate([100, 10_000], (0.5, 0.95))

    # then it is interpolated between the two bins' estimates, as percentile_cont does
    assert p50 == pytest.approx(5050, rel=0.05)
    assert p95 == pytest.approx(9505, rel=0.05)


def test_counts_that_disagree_give_a_bound_of_the_nearest_bin():
    # given group sums counting one more duration than the bins read (a write committed between)
    groups = histogram.empty_groups()
    groups[histogram.group_of(histogram.bin_of(1000))] = 3
    bins = {histogram.bin_of(1000): 2}

    # when the top rank is estimated, then it is the bin's upper bound, not an error
    (p100,) = histogram.percentiles((1.0,), groups=groups, bins=bins)
    assert p100 == histogram.bin_bounds(histogram.bin_of(1000))[1]
