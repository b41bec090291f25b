"""Fréchet and kernel distances between two sets of backbone features (FID and KID).

Written here (float64 torch, no scipy) rather than taken from torchmetrics: importing torchmetrics costs
about five seconds at every start, more than a smoke run trains. The tests check both against closed forms
and against torchmetrics' implementations.
"""

from __future__ import annotations

import torch


def gaussian_stats(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (unbiased) covariance of (N, D) features, in float64."""
    x = features.double()
    mu = x.mean(0)
    centred = x - mu
    return mu, centred.T @ centred / (len(x) - 1)


def psd_sqrt(matrix: torch.Tensor) -> torch.Tensor:
    """The symmetric square root of a covariance matrix (negative rounding-error eigenvalues clipped)."""
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def frechet_distance(
    mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor, sigma2: torch.Tensor, root1: torch.Tensor | None = None
) -> float:
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)) of two Gaussians (Dowson & Landau, 1982).

    tr((S1 S2)^(1/2)) is taken as the sum of the square roots of the eigenvalues of the symmetric
    S1^(1/2) S2 S1^(1/2), which has the same spectrum and is stable for singular covariances. `root1`, the
    precomputed S1^(1/2), saves one eigendecomposition when S1 (the real images') is scored against often.
    """
    root1 = psd_sqrt(sigma1) if root1 is None else root1
    middle = root1 @ sigma2 @ root1
    trace_sqrt = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    diff = mu1 - mu2
    return float(diff @ diff + sigma1.trace() + sigma2.trace() - 2 * trace_sqrt)


def _unbiased_mmd2(k_xx: torch.Tensor, k_yy: torch.Tensor, k_xy: torch.Tensor) -> torch.Tensor:
    m = len(k_xx)
    off_diagonal = (k_xx.sum() - k_xx.diagonal().sum() + k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return off_diagonal - 2 * k_xy.mean()


def kernel_distance(
    real: torch.Tensor, fake: torch.Tensor, subsets: int, subset_size: int, generator: torch.Generator
) -> tuple[float, float]:
    """KID (Bińkowski et al., 2018): mean and std over `subsets` random subsets of the unbiased MMD^2 with
    the cubic polynomial kernel k(x, y) = (x.y / D + 1)^3.

    When the subset takes every image of both sets, all subsets are the same set, so it is computed once;
    otherwise the kernels are computed per subset (memory grows with the subset, not the sample count).
    """
    real, fake = real.double(), fake.double()
    size = min(subset_size, len(real), len(fake))
    dim = real.shape[1]

    def mmd2(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return _unbiased_mmd2((x @ x.T / dim + 1) ** 3, (y @ y.T / dim + 1) ** 3, (x @ y.T / dim + 1) ** 3)

    if size == len(real) == len(fake):
        return float(mmd2(real, fake)), 0.0
    scores = []
    for _ in range(subsets):
        i = torch.randperm(len(real), generator=generator)[:size].to(real.device)
        j = torch.randperm(len(fake), generator=generator)[:size].to(fake.device)
        scores.append(mmd2(real[i], fake[j]))
    values = torch.stack(scores)
    return float(values.mean()), float(values.std()) if subsets > 1 else 0.0
