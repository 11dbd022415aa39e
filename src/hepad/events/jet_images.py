"""Jet images: constituents -> centred, rotated, reflected, pixelated, unit-sum images; vectorised over jets.

Input: one jet per row, constituents ragged as flat arrays (pt, eta, phi) with ``offsets`` (n_jets + 1).
Steps (all jets at once, no Python loop over jets):

1. phi is taken relative to the hardest constituent and wrapped into (-pi, pi], so jets at phi = +-pi
   are not split;
2. centre: ``center="ptscheme"`` moves the pT-weighted centroid (sum pt eta / sum pt, same in phi) to
   the origin (the paper's choice, energyflow's 'ptscheme'); ``center="hardest"`` moves the hardest
   constituent there (the leading prong's core);
3. rotate: the principal axis of the pT-weighted second-moment tensor about the centre,
   S = sum pt (d eta, d phi)^T (d eta, d phi), is turned onto the vertical (phi') axis. About the
   hardest constituent, a two-prong jet's principal axis points at the second prong;
4. reflect: each axis is flipped so that the side carrying more pT is positive (about the centroid the
   first moment vanishes by construction, so the pT on each side decides, not the first moment);
5. pixelate: ``n_pixels`` x ``n_pixels`` over a square of side ``width`` centred on the origin; pixel
   [row, col] covers phi' in row, eta' in col, both increasing with the index; pT summed per pixel;
   constituents outside are dropped;
6. normalise each image to unit sum (an empty image stays zero).
"""

from __future__ import annotations

import numpy as np

CENTERS = ("ptscheme", "hardest")


def _jet_index(offsets: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))


def _segment_sum(values: np.ndarray, jet: np.ndarray, n_jets: int) -> np.ndarray:
    return np.bincount(jet, weights=values, minlength=n_jets)


def hardest_index(offsets: np.ndarray, pt: np.ndarray) -> np.ndarray:
    """Flat index of the highest-pT constituent of every jet (-1 for an empty jet)."""
    offsets = np.asarray(offsets, dtype=np.int64)
    n_jets = len(offsets) - 1
    jet = _jet_index(offsets)
    order = np.lexsort((-pt, jet))  # by jet, then decreasing pT: the first of each jet is the hardest
    first = np.full(n_jets, -1, dtype=np.int64)
    counts = np.diff(offsets)
    nonempty = counts > 0
    # position in `order` of each non-empty jet's first entry = offsets[k] (order keeps jet blocks)
    first[nonempty] = order[offsets[:-1][nonempty]]
    return first


def align_constituents(offsets, pt, eta, phi, center: str = "ptscheme") -> tuple[np.ndarray, np.ndarray]:
    """(x, y) = (eta', phi') of every constituent after centring, rotation and reflection (module doc)."""
    if center not in CENTERS:
        raise ValueError(f"center must be one of {CENTERS}, got {center!r}")
    offsets = np.asarray(offsets, dtype=np.int64)
    pt = np.asarray(pt, dtype=np.float64)
    eta = np.asarray(eta, dtype=np.float64)
    phi = np.asarray(phi, dtype=np.float64)
    n_jets = len(offsets) - 1
    jet = _jet_index(offsets)
    lead = hardest_index(offsets, pt)
    lead_c = np.maximum(lead, 0)
    dphi = np.mod(phi - phi[lead_c][jet] + np.pi, 2 * np.pi) - np.pi
    deta = eta - eta[lead_c][jet]
    if center == "ptscheme":
        sum_pt = _segment_sum(pt, jet, n_jets)
        safe = np.where(sum_pt > 0, sum_pt, 1.0)
        deta = deta - (_segment_sum(pt * deta, jet, n_jets) / safe)[jet]
        dphi = dphi - (_segment_sum(pt * dphi, jet, n_jets) / safe)[jet]
    sxx = _segment_sum(pt * deta * deta, jet, n_jets)
    syy = _segment_sum(pt * dphi * dphi, jet, n_jets)
    sxy = _segment_sum(pt * deta * dphi, jet, n_jets)
    theta = 0.5 * np.arctan2(2 * sxy, sxx - syy)  # direction of the major axis
    alpha = (np.pi / 2 - theta)[jet]  # rotate it onto +phi'
    cos, sin = np.cos(alpha), np.sin(alpha)
    x = cos * deta - sin * dphi
    y = sin * deta + cos * dphi
    # Reflect so the heavier side of each axis is positive (ties at exactly 0 stay as they are).
    for coord in (x, y):
        side = _segment_sum(pt * np.sign(coord), jet, n_jets)
        coord *= np.where(side < 0, -1.0, 1.0)[jet]
    return x, y


def pixelate(offsets, pt, x, y, n_pixels: int = 40, width: float = 2.0, normalise: bool = True) -> np.ndarray:
    """Images (n_jets, n_pixels, n_pixels), float32: pT summed in pixels [row = y bin, col = x bin]."""
    offsets = np.asarray(offsets, dtype=np.int64)
    n_jets = len(offsets) - 1
    jet = _jet_index(offsets)
    scale = n_pixels / width
    col = np.floor((np.asarray(x) + width / 2) * scale).astype(np.int64)
    row = np.floor((np.asarray(y) + width / 2) * scale).astype(np.int64)
    inside = (col >= 0) & (col < n_pixels) & (row >= 0) & (row < n_pixels)
    flat = (jet[inside] * n_pixels + row[inside]) * n_pixels + col[inside]
    images = np.bincount(flat, weights=np.asarray(pt, dtype=np.float64)[inside],
                         minlength=n_jets * n_pixels * n_pixels).reshape(n_jets, n_pixels, n_pixels)
    if normalise:
        total = images.sum(axis=(1, 2), keepdims=True)
        images = np.divide(images, total, out=np.zeros_like(images), where=total > 0)
    return images.astype(np.float32)


def jet_images(offsets, pt, eta, phi, n_pixels: int = 40, width: float = 2.0, center: str = "ptscheme",
               chunk_jets: int = 20000) -> np.ndarray:
    """Preprocessed, unit-sum jet images (n_jets, n_pixels, n_pixels) from ragged constituents.

    Jets are processed ``chunk_jets`` at a time to bound memory (an image set of 100k jets is 640 MB
    in float32 only at the end).
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    n_jets = len(offsets) - 1
    out = np.empty((n_jets, n_pixels, n_pixels), dtype=np.float32)
    for start in range(0, n_jets, chunk_jets):
        stop = min(start + chunk_jets, n_jets)
        lo, hi = offsets[start], offsets[stop]
        off = offsets[start:stop + 1] - lo
        sl = slice(lo, hi)
        x, y = align_constituents(off, pt[sl], eta[sl], phi[sl], center=center)
        out[start:stop] = pixelate(off, pt[sl], x, y, n_pixels=n_pixels, width=width)
    return out
