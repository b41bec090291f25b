"""Ex-post density of an autoencoder's latent codes (Ghosh et al., 2020, "From Variational to Deterministic
Autoencoders"): a Gaussian mixture fitted to the codes of the training images seen last, to sample from.

The CAE has no prior, so it always samples this way; the VAE does with `model.sampler=gmm` (its default,
`prior`, decodes N(0, I)). Ghosh et al. use 10 full-covariance components.

The mixture is fitted by EM in torch, in float64 on the codes' device. A sample grid refits it after every
epoch of new codes, so each refit starts from the previous fit and runs a few iterations: tenths of a second
on 10,000 codes at z_dim 100 on one CPU thread, where sklearn's GaussianMixture, used before, started from
k-means every time and took seconds (docs/results/mixture_fit.md). A fit starts cold (from k-means++) only
without a previous fit of as many components: a run's first, or one after more codes allowed more components.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn as nn

REG_COVAR = 1e-4  # added to each covariance's diagonal, as sklearn's default reg_covar: keeps it invertible
TOL = 1e-3  # EM stops once the mean log-likelihood per code gains less (sklearn's default tol)
MAX_ITER = 100  # EM iterations of a cold fit (sklearn's default max_iter)
MAX_ITER_WARM = 3  # of a refit that starts from the previous fit
KMEANS_ITER = 20  # Lloyd iterations of the cold fit's initial partition
SEED = 0  # the k-means++ seeding's own generator: a fit never draws from torch's global stream


def mixture_components(n_codes: int, z_dim: int, components: int) -> int:
    """Components a fit to `n_codes` codes uses: at most `components`, with at least 2 * z_dim codes each."""
    return max(1, min(components, n_codes // (2 * z_dim)))


def log_densities(x: torch.Tensor, means: torch.Tensor, chol: torch.Tensor) -> torch.Tensor:
    """log N(x_n | means_j, chol_j chol_j^T) for every code n and component j: (N, k)."""
    k, d = means.shape
    eye = torch.eye(d, dtype=chol.dtype, device=chol.device).expand(k, d, d)
    # U_j = L_j^-T, so that (x - mu_j) U_j has the squared norm (x - mu_j)^T Sigma_j^-1 (x - mu_j): one matrix
    # product for all components
    prec = torch.linalg.solve_triangular(chol, eye, upper=False).transpose(1, 2)
    y = x @ prec.transpose(0, 1).reshape(d, k * d)
    y -= torch.einsum("kd,kde->ke", means, prec).reshape(1, k * d)
    squared = y.square_().view(len(x), k, d).sum(2)
    log_det = torch.log(torch.diagonal(chol, dim1=1, dim2=2)).sum(1)
    return -0.5 * (d * math.log(2 * math.pi) + squared) - log_det


def e_step(x: torch.Tensor, fit: dict[str, torch.Tensor]) -> tuple[torch.Tensor, float]:
    """Responsibilities (N, k) and the mean log-likelihood per code under `fit`."""
    joint = log_densities(x, fit["means"], fit["chol"]) + torch.log(fit["weights"])
    norm = torch.logsumexp(joint, dim=1, keepdim=True)
    return torch.exp(joint - norm), norm.mean().item()


def m_step(x: torch.Tensor, resp: torch.Tensor) -> dict[str, torch.Tensor]:
    """Weights, means and covariance Cholesky factors that maximise the likelihood given `resp`."""
    counts = resp.sum(0) + 10 * torch.finfo(resp.dtype).eps  # an empty component keeps a finite mean
    means = (resp.T @ x) / counts[:, None]
    cov = torch.empty(len(means), x.shape[1], x.shape[1], dtype=x.dtype, device=x.device)
    for j, mean in enumerate(means):  # one component at a time: (N, d) temporaries, not (k, N, d)
        centred = x - mean
        torch.matmul((centred * resp[:, j : j + 1]).T, centred, out=cov[j])
    cov /= counts[:, None, None]
    cov.diagonal(dim1=1, dim2=2).add_(REG_COVAR)
    return {"weights": counts / counts.sum(), "means": means, "chol": torch.linalg.cholesky(cov)}


def kmeans(x: torch.Tensor, k: int) -> torch.Tensor:
    """Labels of a k-means partition: greedy k-means++ seeding (as sklearn's KMeans: the best of 2 + log k
    candidates for each centre) from a generator of its own, then Lloyd iterations."""
    trials = 2 + int(math.log(k))
    uniforms = torch.rand(k, trials, generator=torch.Generator().manual_seed(SEED), dtype=x.dtype).to(x.device)
    first = (uniforms[0, 0] * len(x)).long().clamp(max=len(x) - 1)
    centres = x[first][None]
    nearest = (x - centres[0]).square().sum(1)
    for j in range(1, k):  # candidates drawn with probability proportional to their squared distance
        edges = torch.cumsum(nearest, 0)
        picks = torch.searchsorted(edges, uniforms[j] * edges[-1]).clamp(max=len(x) - 1)
        candidate = torch.minimum(nearest[:, None], (x[:, None] - x[picks][None]).square().sum(2))
        best = candidate.sum(0).argmin()
        centres = torch.cat([centres, x[picks[best]][None]])
        nearest = candidate[:, best]
    labels = torch.cdist(x, centres).argmin(1)
    for _ in range(KMEANS_ITER):
        onehot = nn.functional.one_hot(labels, k).to(x.dtype)
        counts = onehot.sum(0)
        centres = torch.where(counts[:, None] > 0, onehot.T @ x / counts.clamp(min=1)[:, None], centres)
        new = torch.cdist(x, centres).argmin(1)
        if torch.equal(new, labels):
            break
        labels = new
    return labels


def fit_mixture(x: torch.Tensor, k: int, start: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """EM for a k-component full-covariance Gaussian mixture over the codes `x` (float64), from `start` (a
    previous fit with k components: a few iterations) or from a k-means partition (cold)."""
    if start is None:
        fit, max_iter = m_step(x, nn.functional.one_hot(kmeans(x, k), k).to(x.dtype)), MAX_ITER
    else:
        fit, max_iter = start, MAX_ITER_WARM
    previous = -math.inf
    for _ in range(max_iter):
        resp, loglik = e_step(x, fit)
        if loglik - previous < TOL:
            break
        fit, previous = m_step(x, resp), loglik
    return fit


class LatentMixture(nn.Module):
    """A ring buffer of the latest codes (a buffer, so the model's state_dict keeps it), and the mixture over
    them, refitted whenever new codes arrived. The fit is extra state too: a refit starts from it, so a
    resumed run must start from the same one to draw the same samples."""

    n_codes = 10_000  # the last ~80 batches at batch 128

    def __init__(self, z_dim: int, components: int, device: torch.device) -> None:
        super().__init__()
        self.z_dim, self.components = z_dim, components
        self.register_buffer("codes", torch.zeros(self.n_codes, z_dim, device=device))
        self.n_seen = 0  # codes written so far (also the fit's freshness stamp)
        self.fitted: dict[str, torch.Tensor] | None = None  # float64 weights, means, chol of the last fit
        self.fitted_at = -1

    @torch.no_grad()
    def add(self, z: torch.Tensor) -> None:
        keep = z.detach().float()[-self.n_codes :]
        end = self.n_seen + len(z)
        self.codes[torch.arange(end - len(keep), end, device=self.codes.device) % self.n_codes] = keep
        self.n_seen = end

    @torch.no_grad()
    def fit(self) -> dict[str, torch.Tensor]:
        """Weights, means and Cholesky factors of the mixture over the stored codes (float64)."""
        if self.fitted is not None and self.fitted_at == self.n_seen:
            return self.fitted
        codes = self.codes[: min(self.n_seen, self.n_codes)].double()
        if len(codes) < 2:  # nothing trained yet: the standard normal
            device = self.codes.device
            self.fitted = {
                "weights": torch.ones(1, dtype=torch.float64, device=device),
                "means": torch.zeros(1, self.z_dim, dtype=torch.float64, device=device),
                "chol": torch.eye(self.z_dim, dtype=torch.float64, device=device)[None],
            }
        else:
            k = mixture_components(len(codes), self.z_dim, self.components)
            start = self.fitted if self.fitted is not None and len(self.fitted["weights"]) == k else None
            self.fitted = fit_mixture(codes, k, start)
        self.fitted_at = self.n_seen
        return self.fitted

    def draw(self, z: torch.Tensor) -> torch.Tensor:
        """Standard-normal z -> a draw from the mixture, deterministic in z (inverse-CDF component choice)."""
        gmm = {k: v.to(z.device) for k, v in self.fit().items()}
        normal = torch.distributions.Normal(0.0, 1.0)
        # z[:, 0] picks the component through its CDF; its position inside the chosen component's share of
        # [0, 1) is again uniform and independent of the choice, so it maps back to a fresh standard normal.
        u = normal.cdf(z[:, 0].double()).clamp(1e-12, 1 - 1e-12)
        edges = torch.cumsum(gmm["weights"], 0)
        edges = edges / edges[-1]
        k = torch.searchsorted(edges, u, right=True).clamp(max=len(edges) - 1)
        low = torch.cat([edges.new_zeros(1), edges[:-1]])[k]
        inside = ((u - low) / (edges[k] - low)).clamp(1e-12, 1 - 1e-12)
        eps = torch.cat([normal.icdf(inside).to(z.dtype)[:, None], z[:, 1:]], dim=1)
        means, chol = gmm["means"].to(z.dtype), gmm["chol"].to(z.dtype)
        return means[k] + torch.einsum("nij,nj->ni", chol[k], eps)

    def get_extra_state(self) -> dict[str, Any]:
        return {"n_seen": self.n_seen, "fitted": self.fitted, "fitted_at": self.fitted_at}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        """`state` from get_extra_state, or just {"n_seen": ...} (no fit yet: the next draw fits cold)."""
        self.n_seen = int(state["n_seen"])
        fitted = state.get("fitted")
        self.fitted = None if fitted is None else {k: v.to(self.codes.device) for k, v in fitted.items()}
        self.fitted_at = int(state.get("fitted_at", -1))
