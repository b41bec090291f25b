"""Evidence for the latent mixture's EM in torch (src/gensweep/models/expost.py) against sklearn's
GaussianMixture, the fit it replaced; printed and written to docs/results/mixture_fit.md.

    python tools/mixture_fit.py                                                       # fit times only
    python tools/mixture_fit.py --run RUN --previous EARLIER.pt dataset.download=false   # + FID

The run of the second form (here: a CAE trained 4 epochs, its checkpoint.pt copied to EARLIER.pt, then
resumed to 5):

    python -m gensweep model=cae dataset=fashion_mnist dataset.download=false n_epochs=4 hydra.run.dir=RUN
    cp RUN/checkpoint.pt EARLIER.pt
    python -m gensweep model=cae dataset=fashion_mnist dataset.download=false n_epochs=5 resume=RUN

1. Fit time on 10,000 codes at z_dim 100 with 10 components, one thread: standard-normal codes, and codes
   drawn from 10 full-covariance Gaussians. sklearn as every refit ran before (a k-means start each time), and
   with its warm_start; the torch EM cold (k-means++ start) and warm (from its fit to another 10,000 codes of
   the same distribution: a refit after an epoch of new codes). Beside each: the mean log-likelihood per
   code, on the fitted codes and on 10,000 held-out ones.
2. With --run (a CAE run folder, or a VAE's with model.sampler=gmm): the run's stored codes fitted by sklearn,
   by the torch EM cold, and the torch fit the run carried (warm-started at every epoch's sample grid);
   the fit's time, and FID of the decoded samples over --seeds seeds of the sample noise. With --previous
   (the same run's checkpoint.pt one epoch earlier), also the torch EM warm-started from that checkpoint's fit.
   Trailing key=value arguments override the run's config keys (as for `python -m gensweep.score`).

sklearn is no dependency of the fit any more; it is installed with gensweep for the digits dataset.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import doc_parser, write  # noqa: E402

from gensweep.api import e_step, fit_mixture, mixture_components  # noqa: E402

N, Z_DIM, K = 10_000, 100, 10


def sklearn_fit(x: torch.Tensor, k: int, warm_from: GaussianMixture | None = None) -> GaussianMixture:
    """The fit as models/expost.py ran it before (full covariance, reg_covar 1e-4, random_state 0); with
    `warm_from`, sklearn's warm_start from that fit."""
    gm = warm_from or GaussianMixture(k, covariance_type="full", reg_covar=1e-4, random_state=0)
    gm.warm_start = warm_from is not None
    gm.fit(x.numpy())
    return gm


def as_fit(gm: GaussianMixture) -> dict[str, torch.Tensor]:
    return {
        "weights": torch.from_numpy(gm.weights_),
        "means": torch.from_numpy(gm.means_),
        "chol": torch.linalg.cholesky(torch.from_numpy(gm.covariances_)),
    }


def timed(fn: Callable[[], object], repeats: int) -> tuple[object, float]:
    """fn's last result and its median seconds over `repeats` calls."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        seconds.append(time.perf_counter() - start)
    return out, statistics.median(seconds)


def standard_normal(gen: torch.Generator) -> torch.Tensor:
    return torch.randn(N, Z_DIM, generator=gen, dtype=torch.float64)


def clustered(gen: torch.Generator) -> torch.Tensor:
    """Codes from 10 Gaussians with random full covariances, centres 3 standard deviations apart per axis."""
    fixed = torch.Generator().manual_seed(7)  # the same mixture for every draw
    centres = 3 * torch.randn(K, Z_DIM, generator=fixed, dtype=torch.float64)
    factors = torch.randn(K, Z_DIM, Z_DIM, generator=fixed, dtype=torch.float64) / Z_DIM**0.5
    labels = torch.randint(K, (N,), generator=gen)
    noise = torch.randn(N, Z_DIM, generator=gen, dtype=torch.float64)
    return centres[labels] + torch.einsum("nij,nj->ni", factors[labels], noise)


def timing_section(repeats: int) -> str:
    rows = [
        f"| codes | fit | seconds (median of {repeats}) | log-likelihood per code, fitted / held-out |",
        "|---|---|---|---|",
    ]
    for name, make in (("standard normal", standard_normal), ("10 clusters", clustered)):
        gen = torch.Generator().manual_seed(0)
        before, codes, held_out = make(gen), make(gen), make(gen)
        old_sklearn, old_torch = sklearn_fit(before, K), fit_mixture(before, K)
        fits = {
            "sklearn, k-means start (before)": timed(lambda c=codes: as_fit(sklearn_fit(c, K)), repeats),
            # timed once: warm_start refits the object in place
            "sklearn, warm_start from its fit to other codes": timed(
                lambda c=codes, w=old_sklearn: as_fit(sklearn_fit(c, K, warm_from=w)), 1
            ),
            "torch EM, cold (k-means++ start)": timed(lambda c=codes: fit_mixture(c, K), repeats),
            "torch EM, warm from its fit to other codes": timed(
                lambda c=codes, w=old_torch: fit_mixture(c, K, w), repeats
            ),
        }
        for fit_name, (fit, seconds) in fits.items():
            rows.append(
                f"| {name} | {fit_name} | {seconds:.2f} | {e_step(codes, fit)[1]:.2f} / "
                f"{e_step(held_out, fit)[1]:.2f} |"
            )
    return "\n".join(
        [
            f"## Fit time: {N:,} codes at z_dim {Z_DIM}, {K} full-covariance components, one thread",
            "",
            *rows,
            "",
            "The warm fits start from a fit to another draw of as many codes from the same distribution: after "
            "an epoch of Fashion-MNIST (469 batches of 128) the buffer of 10,000 codes holds only new ones. "
            "sklearn's warm_start row is timed once (it refits its object in place).",
        ]
    )


def fid_section(run: Path, previous: Path | None, seeds: int, overrides: list[str]) -> str:
    from gensweep.api import QualityMetrics, load_run_model, load_splits, run_config, validate
    from gensweep.api import load_checkpoint as load

    cfg = run_config(run, overrides)
    spec = validate(cfg).on(torch.device("cpu"))
    train, val = load_splits(cfg.dataset)
    quality = QualityMetrics(cfg.metrics, cfg.dataset, train, val, spec.n_classes, spec.device)
    model = load_run_model(run, cfg, spec)
    mixture = model.mixture
    codes = mixture.codes[: min(mixture.n_seen, mixture.n_codes)].double()
    k = mixture_components(len(codes), mixture.z_dim, mixture.components)
    fits: dict[str, tuple[dict[str, torch.Tensor], float | None]] = {
        "sklearn, k-means start (before)": timed(lambda: as_fit(sklearn_fit(codes, k)), 1),
        "torch EM, cold (k-means++ start)": timed(lambda: fit_mixture(codes, k), 1),
    }
    if previous is not None:
        start = load(previous)["model"]["weights"]["mixture._extra_state"]["fitted"]
        fits["torch EM, warm from the previous epoch's fit"] = timed(lambda: fit_mixture(codes, k, start), 1)
    fits["torch EM, the fit the run carried"] = (mixture.fit(), None)
    rows = [
        f"| fit | seconds | log-likelihood per code | {' | '.join(f'FID, seed {s}' for s in range(1, seeds + 1))} "
        "| mean ± std |",
        "|---|---|---|" + "---|" * (seeds + 1),
    ]
    for name, (fit, seconds) in fits.items():
        mixture.fitted, mixture.fitted_at = fit, mixture.n_seen
        fids = [quality.evaluate_images(quality.generate(model, seed), seed)["fid"] for seed in range(1, seeds + 1)]
        rows.append(
            f"| {name} | {'–' if seconds is None else f'{seconds:.2f}'} | {e_step(codes, fit)[1]:.2f} | "
            f"{' | '.join(f'{f:.2f}' for f in fids)} | {statistics.fmean(fids):.2f} ± {statistics.stdev(fids):.2f} |"
        )
    return "\n".join(
        [
            f"## Samples: FID of {cfg.model._target_.rsplit('.', 1)[-1].upper()} samples "
            "from each fit of its stored codes",
            "",
            f"The run: `{run}` ({cfg.dataset.name}, {cfg.n_epochs} epochs, z_dim {cfg.z_dim}, {len(codes):,} stored "
            f"codes, {k} components); "
            f"FID on {quality.n:,} samples against the held-out images (real-data floor {quality.real_fid:.2f}); the "
            "seed is the sample noise's (the run's own FID uses seed 1). The run's own refit at its last epoch was "
            "the warm one from the previous epoch's fit, so those two rows agree.",
            "",
            *rows,
        ]
    )


def main() -> None:
    parser = doc_parser(__doc__)
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per fit (the median is reported)")
    parser.add_argument("--run", type=Path, help="a CAE run folder (or a gmm VAE's) whose codes to sample from")
    parser.add_argument("--previous", type=Path, help="that run's checkpoint.pt one epoch earlier")
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the sample noise for FID")
    parser.add_argument("overrides", nargs="*", help="config keys for --run, e.g. dataset.download=false")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", ConvergenceWarning)  # sklearn's iteration cap, as the old fit ignored it
    load = os.getloadavg()[0]
    with threadpool_limits(limits=1):  # sklearn's BLAS on one thread, as the old fit ran
        sections = [timing_section(args.repeats)]
        if args.run is not None:
            sections.append(fid_section(args.run, args.previous, args.seeds, args.overrides))
    # other work on the machine slows every row alike; the load says how busy it was
    sections.insert(0, f"Load average (1 minute) at the start and the end: {load:.1f}, {os.getloadavg()[0]:.1f}.")
    body = "\n\n".join(sections)
    print(body)
    print(f"written to {write('mixture_fit', body)}")


if __name__ == "__main__":
    main()
