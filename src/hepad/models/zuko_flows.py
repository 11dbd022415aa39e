"""zuko back-ends of :class:`hepad.models.flows.ConditionalFlow`: its MAF and its neural spline flow (NSF).

zuko (https://github.com/probabilists/zuko) is a maintained normalizing-flow library; its masked
autoregressive transform passes the condition to every output (no conditional-MADE caveat). The networks
here have the layout of the hand-written MAF, so that the back-ends compare at equal size: ``n_blocks``
zuko ``MaskedAutoregressiveTransform`` blocks, each with two hidden layers of ``hidden`` ReLU units that
see the condition, each followed by the same batch-norm bijection (optional) and a reverse permutation,
on a standard-normal base. Per block and feature:

- ``kind="maf"``: zuko's monotonic affine transform (shift and log-scale from the network);
- ``kind="nsf"``: zuko's monotonic rational-quadratic spline with ``bins`` bins on [-5, 5] (the identity
  outside), 3 * bins - 1 parameters per feature (Durkan et al., arXiv:1906.04032).

The modules only build networks; training, the best-epoch ensemble, sampling and persistence are
ConditionalFlow's (one loop: :func:`hepad.models.training.train`). zuko is imported when such a network is
built, so the hand-written MAF runs without it.
"""

from __future__ import annotations

from functools import partial

from torch import nn

from hepad.models.flow_layers import BatchNorm, BlockStack

KINDS = ("maf", "nsf")


def _block(kind: str, n_features: int, n_cond: int, hidden: int, bins: int):
    from zuko.flows.autoregressive import MaskedAutoregressiveTransform
    from zuko.transforms import MonotonicRQSTransform

    kwargs = dict(features=n_features, context=n_cond, hidden_features=(hidden, hidden), activation=nn.ReLU)
    if kind == "maf":
        return MaskedAutoregressiveTransform(**kwargs)  # univariate: MonotonicAffineTransform
    if kind == "nsf":
        return MaskedAutoregressiveTransform(univariate=partial(MonotonicRQSTransform, slope=1e-3),
                                             shapes=[(bins,), (bins,), (bins - 1,)], **kwargs)
    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


class ZukoFlow(BlockStack):
    """Stack of [zuko autoregressive block, batch norm, reverse permutation] with a standard-normal base.

    Same interface as the hand-written ``_MAF``: ``log_prob(x, c)`` and ``sample_from_noise(z, c)``.
    """

    def __init__(self, n_features, n_cond, n_blocks, hidden, batch_norm, kind="maf", bins=8):
        super().__init__()
        if n_features < 1 or n_cond < 1:
            raise ValueError("a conditional zuko flow needs at least one feature and one condition")
        self.blocks = nn.ModuleList(_block(kind, n_features, n_cond, hidden, bins) for _ in range(n_blocks))
        self.bn = nn.ModuleList(BatchNorm(n_features) for _ in range(n_blocks)) if batch_norm else None
        self.n_features, self.n_blocks = n_features, n_blocks

    def _forward(self, i, x, c):
        return self.blocks[i](c).call_and_ladj(x)

    def _inverse(self, i, z, c):
        return self.blocks[i](c).inv(z)


def zuko_version() -> str:
    import zuko

    return zuko.__version__
