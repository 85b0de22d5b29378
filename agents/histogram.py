"""Execution durations counted in fixed, log-spaced bins, and percentiles estimated from the counts.

The hourly roll-up (`AgentExecutionHourly`) keeps one count per bin. Bin 0 holds 0 ms; bin `i >= 1`
holds the whole milliseconds in `[EDGES[i - 1], EDGES[i])`, the last one up to `MAX_DURATION_MS`.
Each edge is at most `RATIO` times the previous one (one millisecond apart below 40 ms), so every
value of a bin is within 5 % of every other: an estimate anywhere inside the right bin is off by
less than 5 % of the true value.

Bins are also counted in consecutive groups of `GROUP_SIZE` (the roll-up stores both arrays): a
percentile needs the group sums of every row of a range (26 numbers per row) and then the bins of
the one or two groups where its rank falls, instead of all 410 bins of every row.

The edges are part of the stored data: changing them requires rebuilding the roll-up.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence

RATIO = 1.05
# The largest duration an execution can have (a 32-bit integer column).
MAX_DURATION_MS = 2**31 - 1


def _edges() -> tuple[int, ...]:
    edges = [1]
    while True:
        following = max(edges[-1] + 1, math.floor(edges[-1] * RATIO))
        if following > MAX_DURATION_MS:
            return tuple(edges)
        edges.append(following)


EDGES = _edges()
BINS = len(EDGES) + 1
GROUP_SIZE = 16
GROUPS = math.ceil(BINS / GROUP_SIZE)


def bin_of(duration_ms: int) -> int:
    """The bin of a duration: PostgreSQL's `width_bucket(duration_ms, EDGES)`."""
    return bisect_right(EDGES, duration_ms)


def group_of(bin_index: int) -> int:
    return bin_index // GROUP_SIZE


def bins_of_group(group: int) -> range:
    return range(group * GROUP_SIZE, min((group + 1) * GROUP_SIZE, BINS))


def bin_bounds(bin_index: int) -> tuple[int, int]:
    """The smallest and largest whole milliseconds of a bin."""
    low = 0 if bin_index == 0 else EDGES[bin_index - 1]
    high = EDGES[bin_index] - 1 if bin_index < len(EDGES) else MAX_DURATION_MS
    return low, high


def empty_bins() -> list[int]:
    return [0] * BINS


def empty_groups() -> list[int]:
    return [0] * GROUPS


def groups_needed(fractions: Iterable[float], *, groups: Sequence[int]) -> list[int]:
    """The groups whose bins `percentiles` needs: those holding the ranks each fraction falls between."""
    count = sum(groups)
    needed: set[int] = set()
    for fraction in fractions:
        position = fraction * (count - 1)
        for rank in {math.floor(position), min(math.ceil(position), count - 1)}:
            needed.add(_group_at(rank, groups)[0])
    return sorted(needed)


def percentiles(fractions: Sequence[float], *, groups: Sequence[int], bins: Mapping[int, int]) -> list[float]:
    """`percentile_cont` of each fraction, estimated from group counts and the counts of the bins in
    the groups `groups_holding` named (other bins may be missing from `bins`).

    Each rank's value is placed inside its bin as if the bin's values were evenly spread (so it is
    exact for a bin one millisecond wide), then neighbouring ranks are interpolated as
    `percentile_cont` does. Both stay within the bin range of the true values: less than 5 % off.
    Counts that disagree (a write committed between the two reads) give the nearest bin's bound.
    """
    count = sum(groups)
    if count <= 0:
        raise ValueError("no durations")
    answers = []
    for fraction in fractions:
        position = fraction * (count - 1)
        lower = math.floor(position)
        value = _rank_value(lower, groups=groups, bins=bins)
        if position > lower:
            upper = _rank_value(min(lower + 1, count - 1), groups=groups, bins=bins)
            value += (upper - value) * (position - lower)
        answers.append(value)
    return answers


def _group_at(rank: int, groups: Sequence[int]) -> tuple[int, int]:
    """The group holding a rank (0-based, by ascending duration), and the count of groups before it."""
    below = 0
    for group, count in enumerate(groups):
        if count > 0 and rank < below + count:
            return group, below
        below += count
    last = _last_non_empty(groups)
    return last, below - groups[last]


def _rank_value(rank: int, *, groups: Sequence[int], bins: Mapping[int, int]) -> float:
    group, below = _group_at(rank, groups)
    last_bin = None
    for bin_index in bins_of_group(group):
        count = bins.get(bin_index, 0)
        if count <= 0:
            continue
        low, high = bin_bounds(bin_index)
        if rank < below + count:
            return low + (high - low) * (rank - below + 0.5) / count
        below += count
        last_bin = bin_index
    if last_bin is not None:
        return float(bin_bounds(last_bin)[1])
    return float(bin_bounds(bins_of_group(group)[0])[0])


def _last_non_empty(groups: Sequence[int]) -> int:
    for index in range(len(groups) - 1, -1, -1):
        if groups[index] > 0:
            return index
    return 0
