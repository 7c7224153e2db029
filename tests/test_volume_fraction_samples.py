"""The noise volume fraction's estimator against a process of known covariance: from few
correlated samples it is biased low, and it approaches the truth as the samples grow (why the
authors' protocol keeps the same samples at every angle, docs/reproduction.md)."""

import numpy as np

from brian_effplast import analysis


def test_volume_fraction_from_correlated_samples_is_biased_low_and_converges():
    """A 40-dimensional AR(1) (a sampled Ornstein-Uhlenbeck process, lag-one correlation 0.5)
    with stationary covariance S = L L^T; the truth, stated here, is det(Q^T S Q) over the
    product of S's two largest eigenvalues, Q an orthonormal basis of D's row space. 100 runs
    of each length: at 100 samples the mean estimate is below the truth by many standard errors,
    at 6400 it is within 3% of it, and the bias shrinks with every length."""
    rng = np.random.default_rng(1)
    N, runs, a = 40, 100, 0.5
    L = rng.normal(size=(N, N)) / np.sqrt(N) + np.diag(np.linspace(0.2, 1.0, N))
    S = L @ L.T
    D = rng.normal(size=(2, N))
    Q, _ = np.linalg.qr(D.T)
    truth = np.linalg.det(Q.T @ S @ Q) / np.prod(np.sort(np.linalg.eigvalsh(S))[-2:])
    assert 0.05 < truth < 0.95  # not degenerate
    lengths, means, sems = (100, 400, 1600, 6400), [], []
    for T in lengths:
        x = np.empty((T, runs, N))
        x[0] = rng.normal(size=(runs, N)) @ L.T  # from the stationary law
        for t in range(1, T):
            x[t] = a * x[t - 1] + np.sqrt(1 - a * a) * rng.normal(size=(runs, N)) @ L.T
        vf = analysis.volume_fraction_per_angle(x.transpose(1, 0, 2)[:, None], np.repeat(D[None], runs, 0))[:, 0]
        means.append(vf.mean())
        sems.append(vf.std(ddof=1) / np.sqrt(runs))
    means, sems = np.array(means), np.array(sems)
    assert means[0] < truth - 10 * sems[0], (means, truth)
    assert np.all(np.diff(truth - means) < 0), (means, truth)
    assert abs(means[-1] - truth) < 0.03 * truth, (means, truth)
