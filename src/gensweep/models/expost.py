"""Ex-post density of an autoencoder's latent codes (Ghosh et al., 2020, "From Variational to Deterministic
Autoencoders"): a Gaussian mixture fitted to the codes of the training images seen last, to sample from.

The CAE has no prior, so it always samples this way; the VAE does by default (`model.sampler=gmm`;
`model.sampler=prior` decodes N(0, I) instead, the textbook VAE's samples). Ghosh et al. use 10
full-covariance components.
"""
from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn as nn


class LatentMixture(nn.Module):
    """A ring buffer of the latest codes (a buffer, so the model's state_dict keeps it), and the mixture over
    them, refitted whenever new codes arrived."""

    n_codes = 10_000  # the last ~80 batches at batch 128

    def __init__(self, z_dim: int, components: int, device: torch.device) -> None:
        super().__init__()
        self.z_dim, self.components = z_dim, components
        self.register_buffer("codes", torch.zeros(self.n_codes, z_dim, device=device))
        self.n_seen = 0  # codes written so far (also the fit's freshness stamp)
        self.fitted: dict[str, torch.Tensor] | None = None
        self.fitted_at = -1

    @torch.no_grad()
    def add(self, z: torch.Tensor) -> None:
        keep = z.detach().float()[-self.n_codes :]
        end = self.n_seen + len(z)
        self.codes[torch.arange(end - len(keep), end, device=self.codes.device) % self.n_codes] = keep
        self.n_seen = end

    def fit(self) -> dict[str, torch.Tensor]:
        """Weights, means and Cholesky factors of the mixture over the stored codes."""
        if self.fitted is not None and self.fitted_at == self.n_seen:
            return self.fitted
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import GaussianMixture
        from threadpoolctl import threadpool_limits

        codes = self.codes[: min(self.n_seen, self.n_codes)].double().cpu().numpy()
        if len(codes) < 2:  # nothing trained yet: the standard normal
            weights, means, chol = torch.ones(1), torch.zeros(1, self.z_dim), torch.eye(self.z_dim)[None]
        else:
            k = max(1, min(self.components, len(codes) // (2 * self.z_dim)))  # enough codes per component
            # one BLAS thread: a few thousand codes gain nothing from more, and beside a training that holds a
            # core, more threads made the refits (one per sample grid) 7.5 times slower (a 5-epoch digits VAE:
            # 19.7 s against 2.6 s of sample grids, 2026-11-29)
            # EM's iteration cap can stop a fit short of sklearn's tolerance; the mixture is still a close fit,
            # and the warning would repeat on every sample grid
            with threadpool_limits(limits=1), warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                fit = GaussianMixture(k, covariance_type="full", reg_covar=1e-4, random_state=0).fit(codes)
            weights, means = torch.from_numpy(fit.weights_), torch.from_numpy(fit.means_)
            chol = torch.linalg.cholesky(torch.from_numpy(fit.covariances_))
        self.fitted = {"weights": weights.float(), "means": means.float(), "chol": chol.float()}
        self.fitted_at = self.n_seen
        return self.fitted

    def draw(self, z: torch.Tensor) -> torch.Tensor:
        """Standard-normal z -> a draw from the mixture, deterministic in z (inverse-CDF component choice)."""
        gmm = {k: v.to(z.device) for k, v in self.fit().items()}
        normal = torch.distributions.Normal(0.0, 1.0)
        # z[:, 0] picks the component through its CDF; its position inside the chosen component's share of
        # [0, 1) is again uniform and independent of the choice, so it maps back to a fresh standard normal.
        u = normal.cdf(z[:, 0].double()).clamp(1e-12, 1 - 1e-12)
        edges = torch.cumsum(gmm["weights"].double(), 0)
        edges = edges / edges[-1]
        k = torch.searchsorted(edges, u, right=True).clamp(max=len(edges) - 1)
        low = torch.cat([edges.new_zeros(1), edges[:-1]])[k]
        inside = ((u - low) / (edges[k] - low)).clamp(1e-12, 1 - 1e-12)
        eps = torch.cat([normal.icdf(inside).to(z.dtype)[:, None], z[:, 1:]], dim=1)
        return gmm["means"][k] + torch.einsum("nij,nj->ni", gmm["chol"][k], eps)

    def get_extra_state(self) -> dict[str, Any]:
        return {"n_seen": self.n_seen}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.n_seen = int(state["n_seen"])
        self.fitted = None
