"""Layers shared by the flows of :mod:`hepad.models.flows` and :mod:`hepad.models.zuko_flows`."""

from __future__ import annotations

import math

import torch
from torch import nn

_LOG_2PI = math.log(2.0 * math.pi)


class BatchNorm(nn.Module):
    """Standard batch-norm bijection: batch statistics in training, running averages in evaluation."""

    def __init__(self, n_features: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.log_gamma = nn.Parameter(torch.zeros(n_features))
        self.beta = nn.Parameter(torch.zeros(n_features))
        self.register_buffer("running_mean", torch.zeros(n_features))
        self.register_buffer("running_var", torch.ones(n_features))

    def forward(self, x):
        if self.training:
            mean, var = x.mean(0), x.var(0, unbiased=False)
            with torch.no_grad():
                n = x.shape[0]
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(var * n / max(n - 1, 1), self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
        inv_std = torch.rsqrt(var + self.eps)
        z = (x - mean) * inv_std * torch.exp(self.log_gamma) + self.beta
        logdet = (self.log_gamma + torch.log(inv_std)).sum()
        return z, logdet.expand(x.shape[0])

    def inverse(self, z):
        if self.training:
            raise RuntimeError("the batch-norm inverse needs evaluation mode")
        std = torch.sqrt(self.running_var + self.eps)
        return (z - self.beta) * torch.exp(-self.log_gamma) * std + self.running_mean


class BlockStack(nn.Module):
    """A stack of [autoregressive block, batch norm, reverse permutation] with a standard-normal base: the
    density and the sampling of every MAF-like flow here. A subclass sets ``n_features``, ``bn`` (a
    ModuleList or None) and ``n_blocks`` and says how block ``i`` maps forward and back."""

    def _forward(self, i, x, c):
        """Block ``i`` of ``x`` given ``c``: (output, log |det Jacobian|)."""
        raise NotImplementedError

    def _inverse(self, i, z, c):
        raise NotImplementedError

    def _to_noise(self, x, c):
        """The base-space point of ``x`` given ``c`` and the log |det Jacobian| of the map."""
        logdet = x.new_zeros(x.shape[0])
        for i in range(self.n_blocks):
            x, ld = self._forward(i, x, c)
            logdet = logdet + ld
            if self.bn is not None:
                x, ld = self.bn[i](x)
                logdet = logdet + ld
            x = x.flip(1)
        return x, logdet

    def log_prob(self, x, c):
        z, logdet = self._to_noise(x, c)
        return logdet - 0.5 * (z * z).sum(1) - 0.5 * self.n_features * _LOG_2PI

    def noise_from_sample(self, x, c):
        """The flow's latent (base-space) point of ``x`` given ``c``: the inverse of sample_from_noise."""
        return self._to_noise(x, c)[0]

    def sample_from_noise(self, z, c):
        for i in reversed(range(self.n_blocks)):
            z = z.flip(1)
            if self.bn is not None:
                z = self.bn[i].inverse(z)
            z = self._inverse(i, z, c)
        return z
