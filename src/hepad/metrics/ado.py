"""Average decision ordering (ADO) of two scores, exact over all pairs in O(n log n).

Two scores x and y *decide* a pair of events (i, j) the same way when they order it the same way. With
s_x = sign(x_i - x_j) in {-1, 0, +1} and z_x = [x_i == x_j] (a tie), the agreement of a pair is

    A_ij(x, y) = (1 + s_x s_y + z_x z_y) / 2

i.e. 1 for a concordant pair, 0 for a discordant one, 1/2 when exactly one of the scores ties the pair
(no decision against a decision) and 1 when both tie it (the same non-decision). Then

    ADO(x, y) = sum_{i<j} A_ij / N,   N = n (n - 1) / 2,

so ADO(x, x) = 1 and, for a score without ties, ADO(x, -x) = 0. Without ties ADO = (1 + tau_a) / 2 with
Kendall's tau_a. Every sum over pairs reduces to the Kendall sum K(x, y) = sum_{i<j} s_x s_y and tie
counts, which sorting gives in O(n log n): K = N - T_x - T_y + T_xy - 2 D, with D the number of pairs
that x and y order strictly oppositely, counted as the inversions of y in the order sorted by (x, y).
The inversion count is a bottom-up merge sort written with whole-array numpy operations (one
``searchsorted`` and one stable sort of already-sorted runs per level, log2(n) levels).

The iterative mimicker selection needs the ADO of a candidate observable c with the auto-encoder a *on
the pairs that the current mimicker m misorders*. With the misorder weight M_ij = 1 - A_ij(a, m)
(1 for a misordered pair, 1/2 when one of a, m ties it), the restricted ADO is

    ADO_M(c, a) = sum_{i<j} M_ij A_ij(c, a) / sum_{i<j} M_ij,

and expanding the product with s^2 = 1 - z and s z = 0 gives, exactly,

    4 sum M A(c, a) = N + K_ac + T_ac - K_am - K_mc - T_am + W - T_amc,
    2 sum M         = N - K_am - T_am,

where W = sum over pairs tied in a of s_m s_c, and T_amc counts pairs tied in all three. W is the
Kendall sum of the lexicographic keys (a, m) and (a, c), minus the pairs in different a groups. So the
restricted ADO is exact over all pairs too, in O(n log n) per candidate; no sampling of pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _dense_rank(x: np.ndarray) -> np.ndarray:
    """0-based dense ranks (equal values share a rank) of a 1-d array, as int64."""
    _, inverse = np.unique(x, return_inverse=True)
    return inverse.astype(np.int64).ravel()


def _tied_pairs(rank: np.ndarray) -> int:
    """Number of pairs with equal values, given integer ranks."""
    counts = np.bincount(rank)
    return int((counts * (counts - 1) // 2).sum())


def count_inversions(values) -> int:
    """Number of pairs i < j with values[i] > values[j] (strictly; equal values are no inversion).

    Bottom-up merge sort over the whole array at once: at each level the runs of width w are sorted;
    for every element of a right run, the elements of its left partner run that are larger are counted
    with one global ``searchsorted`` (runs are made globally comparable by adding run-pair offsets).
    """
    rank = _dense_rank(np.asarray(values))
    n = len(rank)
    if n < 2:
        return 0
    span = np.int64(n + 1)  # ranks < n + 1: (pair index) * span + rank orders by pair, then rank
    a = rank.copy()
    idx = np.arange(n, dtype=np.int64)
    total = 0
    w = 1
    while w < n:
        pair = idx // (2 * w)
        key = pair * span + a
        right = ((idx // w) & 1).astype(bool)
        left_keys = key[~right]  # sorted: runs sorted inside, offsets increase with the pair index
        r_keys = key[right]
        r_pair = pair[right]
        # Left elements of the same pair that are > the right element: [first left > value, end of pair).
        first_greater = np.searchsorted(left_keys, r_keys, side="right")
        pair_end = np.searchsorted(left_keys, (r_pair + 1) * span, side="left")
        total += int((pair_end - first_greater).sum())
        # Merge every pair of runs: a stable sort of concatenated sorted runs (timsort merges runs).
        a = np.sort(key, kind="stable") - pair * span
        w *= 2
    return total


@dataclass(frozen=True)
class PairCounts:
    """Pair sums of two scores over all n (n - 1) / 2 pairs.

    n_pairs: N; kendall: K = sum s_x s_y; tied_x, tied_y: pairs tied in x, in y; tied_xy: in both.
    """

    n_pairs: int
    kendall: int
    tied_x: int
    tied_y: int
    tied_xy: int


def pair_counts(x, y) -> PairCounts:
    """Kendall sum and tie counts of two scores of equal length, exactly, in O(n log n)."""
    x = np.asarray(x).ravel()
    y = np.asarray(y).ravel()
    if x.shape != y.shape:
        raise ValueError(f"scores differ in length: {x.shape} vs {y.shape}")
    if np.isnan(x).any() or np.isnan(y).any():
        raise ValueError("scores contain NaN; ADO needs ordered scores")
    n = len(x)
    rx, ry = _dense_rank(x), _dense_rank(y)
    t_x, t_y = _tied_pairs(rx), _tied_pairs(ry)
    joint = rx * np.int64(ry.max() + 1 if n else 1) + ry
    t_xy = _tied_pairs(_dense_rank(joint))
    order = np.lexsort((ry, rx))  # by x, then y: ties in x never count as inversions of y
    discordant = count_inversions(ry[order])
    n_pairs = n * (n - 1) // 2
    kendall = n_pairs - t_x - t_y + t_xy - 2 * discordant
    return PairCounts(n_pairs, int(kendall), t_x, t_y, t_xy)


def ado(x, y) -> float:
    """Average decision ordering of scores x and y over all pairs (module docstring), exact."""
    c = pair_counts(x, y)
    if c.n_pairs == 0:
        raise ValueError("ADO needs at least two events")
    return (c.n_pairs + c.kendall + c.tied_xy) / (2 * c.n_pairs)


def _lex_rank(major: np.ndarray, minor: np.ndarray) -> np.ndarray:
    """Dense ranks of the lexicographic key (major, minor), both given as integer ranks."""
    return _dense_rank(major * np.int64(minor.max() + 1) + minor)


class MisorderedADO:
    """ADO of candidate scores with a reference on the pairs a mimicker misorders, exact.

    Parameters
    ----------
    reference : array (n,)
        The black-box score (auto-encoder MSE) on the evaluation events.
    mimicker : array (n,)
        The current mimicker's score on the same events.

    ``misordered`` is the (weighted) number of misordered pairs; ``__call__(candidate)`` returns the
    restricted ADO of one candidate (module docstring). Candidates may be oriented either way: the
    caller takes max(ADO_M(c), ADO_M(-c)) when the sign of an observable is free.
    """

    def __init__(self, reference, mimicker):
        a = np.asarray(reference).ravel()
        m = np.asarray(mimicker).ravel()
        am = pair_counts(a, m)
        self.n = len(a)
        self.n_pairs = am.n_pairs
        self._am = am
        self._ra = _dense_rank(a)
        self._rm = _dense_rank(m)
        self._ram = _lex_rank(self._ra, self._rm)
        self._t_a = am.tied_x
        self.misordered = (am.n_pairs - am.kendall - am.tied_xy) / 2

    def __call__(self, candidate) -> float:
        c = np.asarray(candidate).ravel()
        if len(c) != self.n:
            raise ValueError(f"candidate has {len(c)} events, the reference {self.n}")
        if self.misordered == 0:
            return float("nan")  # nothing misordered: every candidate is equally (ir)relevant
        rc = _dense_rank(c)
        ac = pair_counts(self._ra, rc)
        mc = pair_counts(self._rm, rc)
        if self._t_a:
            # W = sum over pairs tied in a of s_m s_c, via the keys (a, m) and (a, c); T_amc via (a, m, c).
            rac = _lex_rank(self._ra, rc)
            lex = pair_counts(self._ram, rac)
            w = lex.kendall - (self.n_pairs - self._t_a)
            t_amc = _tied_pairs(_lex_rank(self._ram, rc))
        else:
            w = t_amc = 0
        total = (self.n_pairs + ac.kendall + ac.tied_xy - self._am.kendall - mc.kendall
                 - self._am.tied_xy + w - t_amc)
        return (total / 4) / self.misordered


def ado_misordered(candidate, reference, mimicker) -> float:
    """ADO of ``candidate`` with ``reference`` on the pairs ``mimicker`` misorders (one-off form)."""
    return MisorderedADO(reference, mimicker)(candidate)


def ado_bruteforce(x, y) -> float:
    """ADO by the explicit O(n^2) pair loop (vectorised per row); for tests and benchmarks only."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    n = len(x)
    total = 0.0
    for i in range(n - 1):
        sx = np.sign(x[i] - x[i + 1:])
        sy = np.sign(y[i] - y[i + 1:])
        total += ((1 + sx * sy + (sx == 0) * (sy == 0)) / 2).sum()
    return total / (n * (n - 1) / 2)


def ado_misordered_bruteforce(candidate, reference, mimicker) -> float:
    """The restricted ADO by the explicit pair loop; for tests only."""
    c, a, m = (np.asarray(v, dtype=np.float64).ravel() for v in (candidate, reference, mimicker))
    num = den = 0.0
    for i in range(len(a) - 1):
        sa, sm, sc = (np.sign(v[i] - v[i + 1:]) for v in (a, m, c))
        weight = 1 - (1 + sa * sm + (sa == 0) * (sm == 0)) / 2
        num += (weight * (1 + sc * sa + (sc == 0) * (sa == 0)) / 2).sum()
        den += weight.sum()
    return num / den if den else float("nan")
