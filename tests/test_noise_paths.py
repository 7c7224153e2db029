"""The library's own noise paths on the numpy target, without supplied normals (``noise=``):
the stimulus process reaches its stationary law, and one step of the rates adds variance
sigma^2 dt."""

import numpy as np
from scipy import stats

from brian_effplast import Config, PlasticCircuit


def test_stimulus_relaxes_to_the_prior():
    """From theta = mu + 2 in every replica, after 7.5 time constants 1/(kappa sigma_s^2) the
    4000 independent replicas' theta follow von Mises(mu, 2 kappa) (KS test, one sample per replica:
    independent); a frozen or mis-scaled noise would leave them elsewhere (the same test rejects
    von Mises(mu, kappa) and the start)."""
    mu, kappa, sigma_s = 0.5, 0.75, 1.0  # time constant 1/(kappa sigma_s^2) = 1.33 time units
    cfg = Config.default("estimation").replace(**{
        "circuit.N": 2, "circuit.N_s": 2, "circuit.dt": 0.02, "run.target": "numpy", "run.replicas": 4000,
        "run.seed": 9, "run.duration": 10.0, "run.transient": 0.0, "run.curve_bin": 10.0, "stimulus.mu": mu, "stimulus.kappa": kappa,
        "stimulus.sigma_s": sigma_s})
    m = PlasticCircuit(cfg, state={"theta": np.full(4000, mu + 2.0)})
    m.run(10.0, plastic=False)
    centred = np.angle(np.exp(1j * (m.state["theta"] - mu)))  # about mu, in (-pi, pi]
    assert stats.kstest(centred, stats.vonmises(2 * kappa).cdf).pvalue > 1e-3
    assert stats.kstest(centred, stats.vonmises(kappa).cdf).pvalue < 1e-6


def test_one_step_of_the_rates_adds_variance_sigma_squared_dt():
    """4000 replicas at one state (W, C, b, r, theta the same), plasticity off: one step's
    r(t+dt) minus its noiseless value (the same run at sigma = 0) is N(0, sigma^2 dt) per neuron;
    the sum of squares over the 4000 x 8 values against its chi-square 99.9% interval, and the
    mean against 0."""
    R, N, sigma = 4000, 8, 0.3
    base = {"circuit.N": N, "circuit.N_s": 4, "run.target": "numpy", "run.replicas": R, "run.seed": 4,
            "run.duration": 1.0, "run.transient": 0.0, "run.curve_bin": 0.01,
            "stimulus.sigma_s": 0.0}  # theta held: the rates are the only noise
    one = PlasticCircuit(Config.default("estimation").replace(**{**base, "run.replicas": 1}))
    state = {k: np.repeat(v, R, axis=0) for k, v in one.state.items() if k != "I_rec"}
    state["r"] = np.full((R, N), 1.0)  # away from the clipping bounds: 1 +- a few 0.03
    runs = {}
    for s in (sigma, 0.0):
        m = PlasticCircuit(Config.default("estimation").replace(**{**base, "circuit.sigma": s}), state=state)
        m.run(0.01, plastic=False)
        runs[s] = m.state["r"]
    assert np.ptp(runs[0.0], axis=0).max() < 1e-12  # the noiseless step is one value per neuron
    dev = (runs[sigma] - runs[0.0]).ravel()
    var = sigma ** 2 * 0.01
    dof = dev.size
    lo, hi = stats.chi2.ppf([0.0005, 0.9995], dof)
    assert lo < np.sum(dev ** 2) / var < hi, (np.sum(dev ** 2) / var / dof)
    assert abs(dev.mean()) < 3.3 * np.sqrt(var / dof)
    # independent across neurons: the correlation of two neurons' deviations is within noise
    d = runs[sigma] - runs[0.0]
    assert abs(np.corrcoef(d[:, 0], d[:, 1])[0, 1]) < 3.3 / np.sqrt(R)
