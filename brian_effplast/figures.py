"""Reproduce the figures of Bredenberg, Simoncelli & Savin (NeurIPS 2020).

:func:`make_figures` trains (or reuses) every model the figures need, tests
each one at three stages (untrained, a mid-training snapshot, trained) with
the test protocol of :func:`brian_effplast.protocol.run_test`, and draws every panel
of Figs. 1-3 and the Supplementary Fig. S1 variants::

    OUT/runs/<experiment>/init    untrained model (t = 0), test.npz
    OUT/runs/<experiment>/mid     snapshot after `mid` time units, test.npz
    OUT/runs/<experiment>/final   the whole training (mid continued with
                                  runs.resume), test.npz, learning curve
    OUT/figures/<panel>.png/.pdf  one file per panel
    OUT/figures/overview.png      all panels
    OUT/figures.json              the numbers behind each panel, timings

Existing complete stages under ``OUT/runs`` are reused (so an interrupted
command can simply be repeated). Experiments run in parallel worker
processes (one per core by default); each cpp_standalone process gets its
own cached project slot.

Defaults (``brian-effplast figures --out DIR``): 4 replicas, 260000 time
units of training (the paper's protocol; about 45 min on 2 cores), the mid snapshot at 10000, 12 test angles held for 200
time units; ``--quick``: 2 replicas, 3000 time units (mid 600), 8 angles
held for 60 time units.
"""

import json
import math
import os
import shutil
import time
from pathlib import Path

import numpy as np

from .modelfiles import model_path

__all__ = ["make_figures", "EXPERIMENTS", "DEFAULTS", "QUICK", "mid_duration", "panel_data"]

#: experiment name -> (model file under models/, config overrides, seed)
EXPERIMENTS = {
    "estimation": ("estimation.toml", {}, 101),
    "classification": ("classification.toml", {}, 102),
    "estimation_narrow_prior": ("estimation_narrow_prior.toml", {}, 103),
    "classification_shifted_prior": ("classification_shifted_prior.toml", {}, 104),
    "sigma_0.1": ("noise_levels.toml", {"circuit.sigma": 0.1}, 105),
    # sigma = 0.2 is the "estimation" experiment (noise_levels.toml differs only in sigma)
    "sigma_0.33": ("noise_levels.toml", {"circuit.sigma": 0.33}, 106),
    "sigma_0.5": ("noise_levels.toml", {"circuit.sigma": 0.5}, 107),
}
#: the noise sweep: sigma -> experiment
SIGMAS = {0.1: "sigma_0.1", 0.2: "estimation", 0.33: "sigma_0.33", 0.5: "sigma_0.5"}
DEFAULTS = dict(replicas=4, duration=260000.0, angles=12, hold=200.0)  # the paper's training length
QUICK = dict(replicas=2, duration=3000.0, angles=8, hold=60.0)
STAGES = ("init", "mid", "final")




def mid_duration(duration, curve_bin=10.0):
    """The mid-training snapshot: 10000 time units, or duration/5 when the
    training is shorter than 50000, rounded to whole learning-curve bins."""
    mid = 10000.0 if duration >= 50000.0 else duration / 5.0
    return max(curve_bin, round(mid / curve_bin) * curve_bin)


# ---------------------------------------------------------------------------
# Running the experiments
# ---------------------------------------------------------------------------

def _complete(run_dir, need_test=True):
    p = Path(run_dir)
    try:
        s = json.loads((p / "summary.json").read_text())
    except (OSError, ValueError):
        return False
    return s.get("status") == "complete" and (not need_test or (p / "test.npz").is_file())


def _base_config(name, replicas, target):
    from .config import Config
    model_file, overrides, seed = EXPERIMENTS[name]
    cfg = Config.from_toml(model_path(model_file))
    upd = dict(overrides)
    upd.update({"run.replicas": int(replicas), "run.seed": int(seed), "run.target": target})
    return cfg.replace(**upd)


def _write_init_dir(cfg, init_dir):
    """A run directory holding the initial (untrained) state at t = 0."""
    from . import rundir, runs
    from .model import PlasticCircuit
    init_dir = Path(init_dir)
    init_dir.mkdir(parents=True, exist_ok=True)
    model = PlasticCircuit(cfg)  # the same initial state runs.train draws for this seed
    rundir.write_text(init_dir / runs.FILES["config"], cfg.to_toml_string())
    rundir.write_checkpoint(init_dir, model, 0, np.zeros((cfg.run.replicas, 0)))
    rundir.write_json(init_dir / runs.FILES["summary"], {
        "status": "complete", "task": cfg.task, "target": cfg.run.target, "seed": cfg.run.seed,
        "replicas": cfg.run.replicas, "duration": 0.0, "t": 0.0, "steps_done": 0,
        "wall_seconds": 0.0, "note": "untrained initial state (written by brian_effplast.figures)"})


def _extend_dir(src, dst, duration):
    from .training import extend
    extend(src, dst, duration)


def run_experiment(name, root, replicas, duration, mid, angles, hold, target="cpp_standalone"):
    """Train and test one experiment at the three stages; returns timings (s).

    Stages already complete (summary "complete" and test.npz present) are
    reused.
    """
    import warnings
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import brian2
    brian2.BrianLogger.log_level_error()
    from . import runs
    root = Path(root) / name
    cfg = _base_config(name, replicas, target)
    cfg = runs.resolve_config(cfg, duration=mid)
    timings = {}
    t0 = time.perf_counter()
    d_init, d_mid, d_final = (root / s for s in STAGES)
    if not _complete(d_init, need_test=False):
        _write_init_dir(cfg, d_init)
    if not _complete(d_mid, need_test=False):
        if d_mid.exists() and (d_mid / "checkpoint.npz").is_file() and \
                json.loads((d_mid / "summary.json").read_text()).get("status") == "running":
            runs.resume(d_mid, quiet=True)
        else:
            if d_mid.exists():
                shutil.rmtree(d_mid)
            runs.train(cfg, d_mid, quiet=True)
    timings["train_mid"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    if not _complete(d_final, need_test=False):
        ok = False
        if d_final.exists() and (d_final / "summary.json").is_file():
            try:
                s = json.loads((d_final / "summary.json").read_text())
                ok = s.get("status") == "running" and float(s.get("duration", -1)) == float(duration)
            except (OSError, ValueError):
                ok = False
        if not ok:
            _extend_dir(d_mid, d_final, duration)
        runs.resume(d_final, quiet=True)
    timings["train_final"] = time.perf_counter() - t1
    for stage, d in zip(STAGES, (d_init, d_mid, d_final)):
        t2 = time.perf_counter()
        if not (d / "test.npz").is_file():
            runs.run_test(d, angles=angles, hold=hold, target=target, quiet=True)
        timings[f"test_{stage}"] = time.perf_counter() - t2
    timings["total"] = time.perf_counter() - t0
    return name, timings


# ---------------------------------------------------------------------------
# Loading and the numbers behind the panels
# ---------------------------------------------------------------------------

def _load_npz(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _load_all(root):
    from .config import Config
    data = {}
    for name in EXPERIMENTS:
        d = {}
        for stage in STAGES:
            d[stage] = _load_npz(Path(root) / name / stage / "test.npz")
        d["curve"] = _load_npz(Path(root) / name / "final" / "learning_curve.npz")
        d["config"] = Config.from_toml(Path(root) / name / "final" / "config.toml")
        d["summary"] = json.loads((Path(root) / name / "final" / "summary.json").read_text())
        data[name] = d
    return data


def _ms(x, axis=0):
    from .analysis import mean_sem
    m, s = mean_sem(np.asarray(x, dtype=float), axis=axis)
    return np.asarray(m), np.asarray(s)


def _lst(x):
    x = np.asarray(x, dtype=float)
    return [None if not np.isfinite(v) else round(float(v), 6) for v in x.ravel()] if x.ndim else \
        (None if not np.isfinite(x) else round(float(x), 6))


def _per_angle_error(test, task):
    y, angles = np.asarray(test["outputs"]), np.asarray(test["angles"])
    if task == "estimation":
        tgt = np.stack([np.cos(angles), np.sin(angles)], -1)[None, :, None, :]
        return np.mean(np.sum((y - tgt) ** 2, -1), axis=2)  # (R, K)
    cls = (angles >= 0)[None, :, None]
    return 1.0 - np.mean((y[..., 0] >= 0) == cls, axis=2)  # error rate (R, K)


def _prior_w(angles, test):
    w = np.exp(float(test["prior_kappa"]) * (np.cos(angles - float(test["prior_mu"])) - 1.0))
    return w / w.sum()


def _boundary_pairs(angles):
    """Test-angle pairs straddling the class boundary at 0 and at +-pi."""
    a = np.sort(np.asarray(angles))
    h = 2 * np.pi / a.size
    return np.array([[-h, h]]), np.array([[np.pi - h, -np.pi + h]])


def panel_data(data):
    """The numbers behind every panel (a JSON-ready dict)."""
    from . import analysis
    from .nonlinearity import Softplus
    out = {}
    # 1b
    b = {}
    for name in ("estimation", "classification"):
        c = np.asarray(data[name]["curve"]["curve"])
        n = c.shape[1]
        m = max(1, n // 10)
        first, last = c[:, :m].mean(1), c[:, -m:].mean(1)
        key = "mse" if name == "estimation" else "log_likelihood"
        sign = -1 if name == "estimation" else 1
        b[name] = {f"{key}_first10pct": _lst(_ms(sign * first)), f"{key}_last10pct": _lst(_ms(sign * last)),
                   "per_replica_first": _lst(sign * first), "per_replica_last": _lst(sign * last),
                   "test_error_init": _lst(_ms(_per_angle_error(data[name]["init"], data[name]["config"].task).mean(1))),
                   "test_error_final": _lst(_ms(_per_angle_error(data[name]["final"], data[name]["config"].task).mean(1))),
                   "note": "mean, s.e.m. across replicas; test_error = MSE (estimation) / error rate "
                           "(classification), uniform over test angles"}
    out["fig1b"] = b
    # 1c, 1d, S1c, S1e: preferred stimuli
    for panel, name in (("fig1c", "estimation"), ("fig1d", "classification"),
                        ("figS1c", "estimation_narrow_prior"), ("figS1e", "classification_shifted_prior")):
        t = data[name]["final"]
        pref = analysis.preferred_stimulus(t["rates"], t["angles"]).ravel()
        mu = float(t["prior_mu"])
        dist = np.abs(analysis.wrap_angle(pref - mu))
        out[panel] = {"n_neurons": int(pref.size),
                      "frac_within_45deg_of_prior_mode": round(float(np.mean(dist < np.pi / 4)), 4),
                      "frac_within_45deg_of_boundary_0": round(float(np.mean(np.abs(analysis.wrap_angle(pref)) < np.pi / 4)), 4),
                      "frac_within_45deg_of_pi": round(float(np.mean(dist > 3 * np.pi / 4)), 4),
                      "circular_mean_abs_deviation_from_mode_deg": round(float(np.degrees(dist.mean())), 2),
                      "uniform_expectation_within_45deg": 0.25}
        if data[name]["config"].task == "classification":
            pos = analysis.wrap_angle(pref)
            out[panel]["frac_preferring_class1"] = round(float(np.mean(pos >= 0)), 4)
            # bimodality: fraction of neurons with |pref| in [20, 160] degrees (off both boundaries)
            out[panel]["frac_off_boundaries_20_160deg"] = round(float(np.mean(
                (np.abs(pos) > np.radians(20)) & (np.abs(pos) < np.radians(160)))), 4)
    # population rate: 1e (estimation vs narrow), 1f (classification vs shifted)
    for panel, names in (("fig1e", ("estimation", "estimation_narrow_prior")),
                         ("fig1f", ("classification", "classification_shifted_prior"))):
        p = {}
        for name in names:
            t = data[name]["final"]
            pop = analysis.population_rate(t["rates"])
            angles = np.asarray(t["angles"])
            prior = np.exp(float(t["prior_kappa"]) * np.cos(angles - float(t["prior_mu"])))
            rm = pop["replica_means"]
            corr = [float(np.corrcoef(rm[r], prior)[0, 1]) for r in range(rm.shape[0])]
            k_mode = int(np.argmin(np.abs(analysis.wrap_angle(angles - float(t["prior_mu"])))))
            k_anti = int(np.argmin(np.abs(analysis.wrap_angle(angles - float(t["prior_mu"]) - np.pi))))
            ratio = rm[:, k_mode] / rm[:, k_anti]
            p[name] = {"angles_deg": _lst(np.degrees(angles)), "mean": _lst(pop["mean"]),
                       "sem_replicas": _lst(pop["sem_replicas"]), "sem_neurons": _lst(pop["sem_neurons"]),
                       "corr_with_prior_density": _lst(_ms(corr)),
                       "rate_mode_over_antimode": _lst(_ms(ratio)),
                       "prior_mu_deg": round(math.degrees(float(t["prior_mu"])), 2),
                       "prior_kappa_stationary": float(t["prior_kappa"])}
            wts = rm - rm.min(axis=1, keepdims=True)  # baseline-subtracted profile per replica
            rbar = np.abs((wts * np.exp(1j * angles)).sum(1)) / np.maximum(wts.sum(1), 1e-300)
            p[name]["profile_circular_sd_deg"] = _lst(_ms(np.degrees(np.sqrt(-2 * np.log(np.clip(rbar, 1e-12, 1))))))
            p[name]["profile_peak_deg"] = _lst(_ms(np.degrees(np.angle((wts * np.exp(1j * angles)).sum(1)))))
            if name == "classification_shifted_prior":
                pos = angles >= 0
                rs = rm[:, pos].mean(1) - rm[:, ~pos].mean(1)
                p[name]["rate_class1_minus_class0"] = _lst(_ms(rs))
        if panel == "fig1e":
            p["width_note"] = ("profile_circular_sd_deg: circular s.d. of the baseline-subtracted population "
                               "rate profile; a narrower prior should give a smaller value")
        out[panel] = p
    # 2a, 2b, S1d: estimation bias / variance / error vs angle
    for panel, name in (("fig2b", "estimation"),):
        t = data[name]["final"]
        bias2, var = analysis.bias_variance(t["outputs"], t["angles"])
        angles = np.asarray(t["angles"])
        near = np.abs(analysis.wrap_angle(angles)) <= np.pi / 4 + 1e-9
        far = np.abs(analysis.wrap_angle(angles)) >= 3 * np.pi / 4 - 1e-9
        out[panel] = {"angles_deg": _lst(np.degrees(angles)), "bias2_mean": _lst(_ms(bias2)[0]),
                      "bias2_sem": _lst(_ms(bias2)[1]), "variance_mean": _lst(_ms(var)[0]),
                      "variance_sem": _lst(_ms(var)[1]),
                      "bias2_near_mode(|theta|<=45)": _lst(_ms(bias2[:, near].mean(1))),
                      "bias2_far(|theta|>=135)": _lst(_ms(bias2[:, far].mean(1))),
                      "variance_near_mode": _lst(_ms(var[:, near].mean(1))),
                      "variance_far": _lst(_ms(var[:, far].mean(1)))}
    fb = out["fig2b"]
    out["fig2a"] = {"see": "fig2b (the same test data; replica 0 drawn)",
                    "bias2_far_over_near": round(float(fb["bias2_far(|theta|>=135)"][0] /
                                                       max(fb["bias2_near_mode(|theta|<=45)"][0], 1e-12)), 3)}
    s1d = {}
    for name in ("estimation", "estimation_narrow_prior"):
        t = data[name]["final"]
        err = _per_angle_error(t, "estimation")
        angles = np.asarray(t["angles"])
        far = np.abs(analysis.wrap_angle(angles)) >= 3 * np.pi / 4 - 1e-9
        near = np.abs(analysis.wrap_angle(angles)) <= np.pi / 4 + 1e-9
        s1d[name] = {"angles_deg": _lst(np.degrees(angles)), "mse_mean": _lst(_ms(err)[0]),
                     "mse_sem": _lst(_ms(err)[1]), "mse_near": _lst(_ms(err[:, near].mean(1))),
                     "mse_far": _lst(_ms(err[:, far].mean(1)))}
    out["figS1d"] = s1d
    # S1f: classification error vs angle, centred vs shifted prior
    s1f = {}
    for name in ("classification", "classification_shifted_prior"):
        t = data[name]["final"]
        err = _per_angle_error(t, "classification")
        angles = np.asarray(t["angles"])
        pos = angles >= 0
        s1f[name] = {"angles_deg": _lst(np.degrees(angles)), "error_mean": _lst(_ms(err)[0]),
                     "error_sem": _lst(_ms(err)[1]), "error_class1": _lst(_ms(err[:, pos].mean(1))),
                     "error_class0": _lst(_ms(err[:, ~pos].mean(1)))}
        y = np.asarray(t["outputs"])[..., 0]
        s1f[name]["mean_output_margin_class1"] = _lst(_ms(y[:, pos].mean((1, 2))))
        s1f[name]["mean_output_margin_class0"] = _lst(_ms(-y[:, ~pos].mean((1, 2))))
    out["figS1f"] = s1f
    # 2c: boundary d' at the prior mode (0) and at +-pi
    t = data["classification"]["final"]
    p0, ppi = _boundary_pairs(t["angles"])
    d0 = analysis.boundary_dprime(t["outputs"], t["angles"], p0)[:, 0]
    dpi = analysis.boundary_dprime(t["outputs"], t["angles"], ppi)[:, 0]
    y = np.asarray(t["outputs"])[..., 0]
    ang = analysis.wrap_angle(np.asarray(t["angles"]))
    idx = lambda a: int(np.argmin(np.abs(analysis.wrap_angle(ang - a))))  # noqa: E731
    sep = lambda pr: np.abs(y[:, idx(pr[0])].mean(1) - y[:, idx(pr[1])].mean(1))  # noqa: E731
    sd = lambda pr: np.sqrt(0.5 * (y[:, idx(pr[0])].var(1, ddof=1) + y[:, idx(pr[1])].var(1, ddof=1)))  # noqa: E731
    out["fig2c"] = {"pair_at_mode_deg": _lst(np.degrees(p0[0])), "pair_at_pi_deg": _lst(np.degrees(ppi[0])),
                    "dprime_at_mode": _lst(_ms(d0)), "dprime_at_pi": _lst(_ms(dpi)),
                    "per_replica_at_mode": _lst(d0), "per_replica_at_pi": _lst(dpi),
                    "mean_separation_at_mode": _lst(_ms(sep(p0[0]))), "mean_separation_at_pi": _lst(_ms(sep(ppi[0]))),
                    "pooled_sd_at_mode": _lst(_ms(sd(p0[0]))), "pooled_sd_at_pi": _lst(_ms(sd(ppi[0])))}
    # 2d: prior-averaged d' at the three stages
    d2 = {}
    for stage in STAGES:
        t = data["classification"][stage]
        dp = analysis.prior_averaged_dprime(t["outputs"], t["angles"], float(t["prior_mu"]), float(t["prior_kappa"]))
        d2[stage] = {"t": float(t["t"]), "dprime": _lst(_ms(dp)), "per_replica": _lst(dp)}
    out["fig2d"] = d2
    # 3a: learning curves per sigma
    a3 = {}
    for s, name in SIGMAS.items():
        c = -np.asarray(data[name]["curve"]["curve"])
        m = max(1, c.shape[1] // 10)
        a3[str(s)] = {"mse_first10pct": _lst(_ms(c[:, :m].mean(1))), "mse_last10pct": _lst(_ms(c[:, -m:].mean(1))),
                      "test_mse_final": _lst(_ms(_per_angle_error(data[name]["final"], "estimation").mean(1)))}
    out["fig3a"] = a3
    # 3b: current ratio low vs high noise (and all sigma)
    b3 = {}
    for s, name in SIGMAS.items():
        t = data[name]["final"]
        cr = analysis.current_ratio(t["rates"], t["angles"], t["W"], t["C"])  # (R, N)
        cr0 = analysis.current_ratio(data[name]["init"]["rates"], t["angles"], data[name]["init"]["W"],
                                     data[name]["init"]["C"])
        b3[str(s)] = {"ratio_after": _lst(_ms(cr.mean(1))), "ratio_before": _lst(_ms(cr0.mean(1))),
                      "per_replica_after": _lst(cr.mean(1))}
    out["fig3b"] = b3
    # 3c: volume fraction at sigma = 0.33, three stages
    c3 = {}
    for stage in STAGES:
        t = data["sigma_0.33"][stage]
        vf = analysis.volume_fraction_per_angle(t["rates"], t["D"])  # (R, K)
        angles = np.asarray(t["angles"])
        near = np.abs(analysis.wrap_angle(angles)) <= np.pi / 4 + 1e-9
        far = np.abs(analysis.wrap_angle(angles)) >= 3 * np.pi / 4 - 1e-9
        c3[stage] = {"t": float(t["t"]), "angles_deg": _lst(np.degrees(angles)), "vf_mean": _lst(_ms(vf)[0]),
                     "vf_sem": _lst(_ms(vf)[1]), "vf_near_mode": _lst(_ms(vf[:, near].mean(1))),
                     "vf_far": _lst(_ms(vf[:, far].mean(1))), "min": _lst(vf.min()), "max": _lst(vf.max())}
    out["fig3c"] = c3
    # 3d, S1g: mean energy vs angle and vs sigma^2
    d3 = {}
    for s, name in SIGMAS.items():
        nl = data[name]["config"].nonlinearity
        fi = Softplus(nl.a, nl.beta, nl.g)
        res = {}
        for stage in ("init", "final"):
            t = data[name][stage]
            e = analysis.mean_energy_per_angle(t["rates"], t["angles"], t["W"], t["C"], t["b"], fi.finv_integral)
            w = _prior_w(np.asarray(t["angles"]), t)
            res[stage] = {"per_angle_mean": _lst(_ms(e)[0]), "per_angle_sem": _lst(_ms(e)[1]),
                          "angle_avg": _lst(_ms(e.mean(1))), "prior_avg": _lst(_ms(e @ w))}
        res["angles_deg"] = _lst(np.degrees(np.asarray(data[name]["final"]["angles"])))
        res["sigma2"] = s * s
        d3[str(s)] = res
    out["fig3d"] = d3
    s1g = {"sigma2": [s * s for s in SIGMAS], "mean_energy": [d3[str(s)]["final"]["angle_avg"][0] for s in SIGMAS],
           "sem": [d3[str(s)]["final"]["angle_avg"][1] for s in SIGMAS]}
    s1g["mean_energy_untrained"] = [d3[str(s)]["init"]["angle_avg"][0] for s in SIGMAS]
    s1g["learning_change"] = [round(a - b, 6) for a, b in zip(s1g["mean_energy"], s1g["mean_energy_untrained"])]
    s1g["note"] = ("mean_energy_untrained: the same sigma with the initial weights; the rise with sigma^2 "
                   "at fixed weights is the temperature effect, learning_change is what training added")
    e = s1g["mean_energy"]
    s1g["monotonic_increasing"] = bool(all(e[i] < e[i + 1] for i in range(len(e) - 1)))
    out["figS1g"] = s1g
    return out


# ---------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------

def _panels(data):
    """(panel name, Figure) for every panel."""
    from . import plotting as P
    cur = lambda n: (np.asarray(data[n]["curve"]["curve"]), float(data[n]["curve"]["curve_bin"]))  # noqa: E731
    fin = lambda n: data[n]["final"]  # noqa: E731
    yield "fig1b", P.fig1b_learning_curves(cur("estimation"), cur("classification"))
    yield "fig1c", P.fig_preferred_stimuli(fin("estimation"), "Fig. 1c: estimation, preferred stimuli")
    yield "fig1d", P.fig_preferred_stimuli(fin("classification"), "Fig. 1d: classification, preferred stimuli",
                                           boundary=True)
    yield "fig1e", P.fig_population_rates([("prior κ=0.75 (stationary 1.5)", fin("estimation")),
                                           ("narrow prior κ=2 (stationary 4)", fin("estimation_narrow_prior"))],
                                          "Fig. 1e: estimation, population rate for two priors")
    yield "fig1f", P.fig_population_rates([("prior at 0 (on boundary)", fin("classification")),
                                           ("prior shifted to 45°", fin("classification_shifted_prior"))],
                                          "Fig. 1f: classification, shifted prior", boundary=True)
    yield "fig2a", P.fig2a_output_ellipses(fin("estimation"))
    yield "fig2b", P.fig2b_bias_variance(fin("estimation"))
    yield "fig2c", P.fig2c_boundary_outputs(fin("classification"))
    yield "fig2d", P.fig2d_dprime({s: data["classification"][s] for s in STAGES})
    yield "fig3a", P.fig3a_noise_learning_curves({s: cur(n) for s, n in SIGMAS.items()})
    yield "fig3b", P.fig3b_current_ratio({s: fin(n) for s, n in SIGMAS.items()}, low=0.1, high=0.5)
    yield "fig3c", P.fig3c_volume_fraction({s: data["sigma_0.33"][s] for s in STAGES}, sigma=0.33)
    fis = {}
    from .nonlinearity import Softplus
    for s, n in SIGMAS.items():
        nl = data[n]["config"].nonlinearity
        fis[s] = Softplus(nl.a, nl.beta, nl.g).finv_integral
    yield "fig3d", P.fig3d_energy({s: fin(n) for s, n in SIGMAS.items()}, fis)
    yield "figS1a", P.figS1_tuning_map(fin("estimation"), "S1a: estimation tuning curves (replica 0)")
    yield "figS1b", P.figS1_tuning_map(fin("classification"), "S1b: classification tuning curves (replica 0)",
                                       boundary=True)
    yield "figS1c", P.fig_preferred_stimuli(fin("estimation_narrow_prior"),
                                            "S1c: narrow prior (κ=2), preferred stimuli")
    yield "figS1d", P.figS1_error_vs_angle([("prior κ=0.75", fin("estimation")),
                                            ("narrow prior κ=2", fin("estimation_narrow_prior"))], "estimation",
                                           "S1d: estimation error vs angle")
    yield "figS1e", P.fig_preferred_stimuli(fin("classification_shifted_prior"),
                                            "S1e: shifted prior (45°), preferred stimuli", boundary=True)
    yield "figS1f", P.figS1_error_vs_angle([("prior at 0", fin("classification")),
                                            ("prior shifted to 45°", fin("classification_shifted_prior"))],
                                           "classification", "S1f: classification error vs angle")
    yield "figS1g", P.figS1g_energy_vs_sigma2({s: fin(n) for s, n in SIGMAS.items()}, fis)


def _overview(paths, out_png, ncol=5):
    import matplotlib.image as mpimg
    from .plotting import _figure
    n = len(paths)
    nrow = int(math.ceil(n / ncol))
    fig = _figure(4.2 * ncol, 3.0 * nrow)
    for i, p in enumerate(paths):
        ax = fig.add_subplot(nrow, ncol, i + 1)
        ax.imshow(mpimg.imread(p))
        ax.set_axis_off()
    fig.savefig(out_png, dpi=110)


def _check_reuse(root, R, T, K):
    """Refuse to mix runs of other settings found in ``root``."""
    from .config import Config
    from .errors import RunError
    for name in EXPERIMENTS:
        f = Path(root) / name / "final" / "config.toml"
        if f.is_file():
            cfg = Config.from_toml(f)
            if cfg.run.replicas != R or float(cfg.run.duration) != T:
                raise RunError(f"{f.parent} holds a run with {cfg.run.replicas} replica(s) x "
                               f"{cfg.run.duration:g} time units, not {R} x {T:g}: use another --out "
                               "(or the same settings)")
        t = Path(root) / name / "final" / "test.npz"
        if t.is_file():
            with np.load(t, allow_pickle=False) as z:
                if z["angles"].size != K:
                    raise RunError(f"{t} has {z['angles'].size} test angles, not {K}: use another --out")


def make_figures(out_dir, replicas=None, duration=None, quick=False, target="cpp_standalone",
                 workers=None, angles=None, hold=None, log=print):
    """Run (or reuse) the experiments and draw every panel; returns figures.json's dict."""
    base = dict(QUICK if quick else DEFAULTS)
    for k, v in (("replicas", replicas), ("duration", duration), ("angles", angles), ("hold", hold)):
        if v is not None:
            base[k] = v
    R, T, K, H = int(base["replicas"]), float(base["duration"]), int(base["angles"]), float(base["hold"])
    mid = mid_duration(T)
    out = Path(out_dir)
    root = out / "runs"
    figdir = out / "figures"
    root.mkdir(parents=True, exist_ok=True)
    figdir.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    workers = workers or max(1, min(len(EXPERIMENTS), os.cpu_count() or 1))
    log(f"brian-effplast figures: {len(EXPERIMENTS)} experiments, {R} replicas, {T:g} time units "
        f"(snapshot at {mid:g}), {K} test angles x {H:g} time units, {workers} worker(s), target {target} -> {out}")
    _check_reuse(root, R, T, K)
    timings = {}
    order = sorted(EXPERIMENTS, key=lambda n: 0 if EXPERIMENTS[n][0].startswith("classif") else -1)
    args = [(n, str(root), R, T, mid, K, H, target) for n in order]
    if workers == 1:
        for a in args:
            name, tm = run_experiment(*a)
            timings[name] = tm
            log(f"  {name}: done in {tm['total']:.0f} s")
    else:
        from .parallel import WorkerPool

        def done(i, result):
            name, tm = result
            timings[name] = tm
            log(f"  {name}: done in {tm['total']:.0f} s ({time.perf_counter() - t_start:.0f} s elapsed)")
        with WorkerPool(workers) as pool:
            pool.run([(run_experiment, a) for a in args], done=done)
    t_sim = time.perf_counter() - t_start
    t1 = time.perf_counter()
    data = _load_all(root)
    numbers = panel_data(data)
    paths = []
    for name, fig in _panels(data):
        fig.savefig(figdir / f"{name}.png", dpi=120)
        fig.savefig(figdir / f"{name}.pdf")
        paths.append(figdir / f"{name}.png")
    _overview(paths, figdir / "overview.png")
    t_draw = time.perf_counter() - t1
    result = {"settings": {"replicas": R, "duration": T, "mid_snapshot": mid, "test_angles": K, "test_hold": H,
                           "target": target, "workers": workers, "quick": bool(quick),
                           "experiments": {n: {"model": e[0], "overrides": e[1], "seed": e[2]}
                                           for n, e in EXPERIMENTS.items()}},
              "timings": {"experiments": timings, "simulation_wall_s": round(t_sim, 1),
                          "analysis_and_drawing_s": round(t_draw, 1),
                          "total_wall_s": round(time.perf_counter() - t_start, 1)},
              "panels": numbers,
              "files": {"overview": str(figdir / "overview.png"), "panels": [str(p) for p in paths]}}
    # training wall times as recorded by the runs themselves (also when reused)
    result["timings"]["run_wall_s"] = {
        n: {st: round(float(data[n]["summary"].get("wall_seconds", 0.0)) if st == "final" else
                      float(json.loads((root / n / st / "summary.json").read_text()).get("wall_seconds", 0.0)), 1)
            for st in ("mid", "final")} for n in EXPERIMENTS}
    try:  # keep the timings of the run that did the simulations when this one reused them
        old = json.loads((out / "figures.json").read_text())["timings"]
        prev = old.get("first_run", old)
        if prev.get("simulation_wall_s", 0) > result["timings"]["simulation_wall_s"]:
            prev.pop("first_run", None)
            result["timings"]["first_run"] = prev
    except (OSError, ValueError, KeyError):
        pass
    from .rundir import write_json
    write_json(out / "figures.json", result)
    log(f"brian-effplast figures: {len(paths)} panels in {figdir}, overview {figdir / 'overview.png'}, "
        f"numbers in {out / 'figures.json'} ({result['timings']['total_wall_s']:.0f} s)")
    return result
