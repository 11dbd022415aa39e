"""Conditional flow matching (CFM): the network behind ``ConditionalFlow(kind="cfm")`` (docs/cathode.md).

A vector field v(x, t, c), an MLP, defines the ODE dx/dt = v(x, t, c) that carries standard-normal noise
z at t = 0 to a feature vector x at t = 1, for the condition c (the scaled mjj). Training regresses v on
the straight path between a noise draw and a data event (Lipman et al., arXiv:2210.02747; as in
sk_cathode, in the opposite time direction there):

    x_t = (1 - t) z + t x,   t ~ U(0, 1),   z ~ N(0, 1),   loss = mean |v(x_t, t, c) - (x - z)|^2.

- Sampling integrates the ODE from t = 0 (z) to t = 1; the latent point of an event (LaCATHODE) is the
  same ODE from t = 1 back to 0.
- The density integrates it backwards from x at t = 1 to z at t = 0 together with the divergence of v
  (instantaneous change of variables): log p(x | c) = log N(z) - int_0^1 div v dt. The divergence is the
  exact trace of the Jacobian by automatic differentiation, affordable for a few features.

Both use zuko's maintained ODE code (``zuko.utils.odeint``, adaptive Dormand-Prince, and
``zuko.transforms.FreeFormJacobianTransform`` for the exact trace), with one tolerance ``tol`` (absolute
and relative). The step size is chosen for a whole batch at once, so a density depends (within the
tolerance) on the other events of its batch; a fixed batch gives identical results every time.

The MLP is zuko's (``zuko.nn.MLP``) with SiLU activations: smooth, so the divergence is too and the adaptive
solver takes few steps (sk_cathode and zuko's CNF use ELU; SiLU gave a lower validation NLL at a lower ODE
cost, docs/cathode.md). Its input is x, c and the time embedding cos(k pi t), sin(k pi t) for k = 1..3 (as
sk_cathode and zuko's CNF). Training, the best-epoch ensemble, sampling and persistence are
ConditionalFlow's; this module only says how the network maps.
"""

from __future__ import annotations

import math

import torch
from torch import nn

_LOG_2PI = math.log(2.0 * math.pi)
TIME_FREQUENCIES = 8  # time embedding: cos and sin of k pi t, k = 1..8


class CFMNet(nn.Module):
    """Vector field v(x, t, c) with the flow-matching loss, the ODE sampler and the ODE log-density.

    Parameters
    ----------
    n_features, n_cond : int
        Dimensions of x and of the condition.
    hidden, layers : int
        Hidden units per layer and number of hidden layers of the MLP.
    tol : float
        Absolute and relative tolerance of the ODE solver (sampling and density).
    """

    def __init__(self, n_features: int, n_cond: int, hidden: int, layers: int, tol: float):
        super().__init__()
        from zuko.nn import MLP

        if n_features < 1 or n_cond < 1:
            raise ValueError("a conditional CFM needs at least one feature and one condition")
        self.n_features, self.tol = n_features, float(tol)
        self.register_buffer("freqs", torch.arange(1, TIME_FREQUENCIES + 1, dtype=torch.float32) * math.pi)
        self.net = MLP(n_features + n_cond + 2 * TIME_FREQUENCIES, n_features, [hidden] * layers,
                       activation=nn.SiLU)

    def velocity(self, t, x, c):
        """v(x, t, c); ``t`` a scalar or one time per row of ``x``."""
        t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
        angle = self.freqs * t.reshape(-1, 1)
        emb = torch.cat([angle.cos(), angle.sin()], 1).expand(x.shape[0], -1)
        return self.net(torch.cat([x, c, emb], 1))

    def fm_loss(self, x, c, z, t):
        """Flow-matching loss of a batch: mean over events and features of |v(x_t, t, c) - (x - z)|^2."""
        t = t.reshape(-1, 1)
        xt = (1.0 - t) * z + t * x
        return (self.velocity(t, xt, c) - (x - z)).square().mean()

    def sample_from_noise(self, z, c):
        """Integrate the ODE from the noise ``z`` at t = 0 to t = 1."""
        from zuko.utils import odeint

        return odeint(lambda t, x: self.velocity(t, x, c), z, 0.0, 1.0, atol=self.tol, rtol=self.tol)

    def noise_from_sample(self, x, c):
        """The latent point of ``x``: the ODE backwards from t = 1 to t = 0 (the inverse of sampling)."""
        from zuko.utils import odeint

        return odeint(lambda t, y: self.velocity(t, y, c), x, 1.0, 0.0, atol=self.tol, rtol=self.tol)

    def log_prob(self, x, c):
        """log p(x | c): the ODE backwards from t = 1 to 0 with the exact divergence (needs autograd:
        call it under ``torch.no_grad()``, not ``torch.inference_mode()``)."""
        from zuko.transforms import FreeFormJacobianTransform

        to_noise = FreeFormJacobianTransform(lambda t, y: self.velocity(t, y, c), t0=1.0, t1=0.0,
                                             atol=self.tol, rtol=self.tol, exact=True)
        z, ladj = to_noise.call_and_ladj(x)  # ladj = log |det dz/dx| = -int_0^1 div v dt
        return ladj - 0.5 * (z * z).sum(1) - 0.5 * self.n_features * _LOG_2PI
