"""The test protocol: held stimuli, plasticity off.

Every replica is presented each of ``K`` test angles
(:func:`~brian_effplast.prior.test_angles`) for ``hold`` time units, with
plasticity off and the stimulus held (``sigma_s = 0``); rates and outputs
are recorded every ``test.record_every`` steps and the first :data:`SETTLE`
time units dropped. :func:`held_stimulus_test` runs it on a model in
memory, :func:`run_test` on a run directory (and writes ``test.npz`` and
the plots), :func:`scores` sums it up as the task scores it.
"""

import sys
from pathlib import Path

import numpy as np

from .config import ConfigError
from .errors import RunError
from .prior import prior_weights, stationary_kappa, test_angles
from .rundir import FILES, read_run, write_figure, write_npz
from .state import saved_keys
from .tasks import get_task
from .training import model_from

__all__ = ["held_stimulus_test", "run_test", "scores", "per_angle_error", "SETTLE"]

#: Time units dropped at the start of each test angle (the circuit settles).
SETTLE = 10.0


def _samples(cfg, hold):
    """Steps of a held stimulus, sample times and which samples are kept (after SETTLE)."""
    every = cfg.test.record_every
    n_hold = cfg.steps(hold, "test.hold")
    # sample i is recorded at the end of step i*every: the state at (i*every + 1)*dt
    times = (np.arange(-(-n_hold // every)) * every + 1) * cfg.circuit.dt
    keep = times > SETTLE + 1e-9
    if keep.sum() < 2:
        raise ConfigError(f"arguments: test.hold = {hold!r} is not allowed: must leave at least 2 "
                          f"samples (every test.record_every = {every} steps) after the first {SETTLE:g} "
                          f"time units (settling)")
    return n_hold, times, keep


def held_stimulus_test(model, angles=None, hold=None, target=None):
    """The test protocol on a model in memory (:class:`~brian_effplast.model.PlasticCircuit`).

    Every replica is presented each of ``angles`` test angles (default
    ``config.test.angles``, at ``-pi + 2 pi k / K``) for ``hold`` time units
    (default ``config.test.hold``), with plasticity off and the stimulus held
    (``sigma_s = 0``); rates and outputs are recorded every
    ``config.test.record_every`` steps and the first :data:`SETTLE` time units
    dropped. All ``R * K`` (replica, angle) pairs run in parallel as
    independent copies of the model, from its current state; ``model`` itself
    is not changed.

    Returns the test data: ``angles (K,)``, ``rates (R, K, S, N)``,
    ``outputs (R, K, S, n_out)``, ``W, C, b, D`` and the prior (the layout
    of ``test.npz`` and of :mod:`brian_effplast.analysis`).
    """
    from .model import PlasticCircuit
    cfg = model.config
    K = cfg.test.angles if angles is None else angles
    hold = cfg.test.hold if hold is None else hold
    if isinstance(K, bool) or int(K) != K or K < 1:
        raise ValueError(f"angles = {K!r} is not allowed: must be an integer >= 1")
    dt, R, every = cfg.circuit.dt, model.R, cfg.test.record_every
    n_hold, times, keep = _samples(cfg, hold)
    theta = test_angles(int(K))
    state = {k: np.repeat(np.asarray(model.state[k]), K, axis=0) for k in saved_keys(cfg.plasticity.rule)}
    state["theta"] = np.tile(theta, R)  # replica r, angle k -> r*K + k
    # no trial resets in the test: it starts from the model's current state
    tcfg = cfg.replace(**{"stimulus.sigma_s": 0.0, "run.replicas": R * int(K), "run.trial": 0.0, "run.workers": 1})
    tester = PlasticCircuit(tcfg, task=model.task, fi_curve=model.fi_curve, state=state, t=model.t,
                            seed=model.seed, target=target or model.target)
    rec = tester.run(n_hold * dt, plastic=False, record=("r", "y"), record_every=every)
    N, n_out = model.N, model.n_out
    r = rec["r"][:len(times)][keep]  # (S, R*K, N)
    y = rec["y"][:len(times)][keep]  # (S, R*K, n_out)
    S = r.shape[0]
    return dict(angles=theta, rates=r.reshape(S, R, int(K), N).transpose(1, 2, 0, 3),
                outputs=y.reshape(S, R, int(K), n_out).transpose(1, 2, 0, 3),
                **{k: np.asarray(model.state[k]).copy() for k in ("W", "C", "b", "D")},
                task=np.str_(model.task.name), t=np.float64(model.t), hold=np.float64(hold),
                settle=np.float64(SETTLE), sample_dt=np.float64(every * dt),
                prior_mu=np.float64(cfg.stimulus.mu),
                prior_kappa=np.float64(stationary_kappa(cfg.stimulus.kappa)),
                seed=np.int64(model.seed))


def run_test(run_dir, out=None, angles=None, hold=None, target=None, *, quiet=False, stream=None):
    """The test protocol (:func:`held_stimulus_test`) on the last checkpoint of a run directory.

    Writes ``test.npz`` (the data :func:`held_stimulus_test` returns), ``tuning.png``
    and ``outputs.png`` to ``out`` (default: the run directory). ``angles``,
    ``hold`` and ``target`` override the run's ``test.angles``,
    ``test.hold`` and ``run.target``. Returns a dict with the file paths and
    a few test numbers.
    """
    run_dir = Path(run_dir)
    cfg, summary, ckpt = read_run(run_dir)
    overrides = {k: v for k, v in (("test.angles", angles), ("test.hold", hold), ("run.target", target))
                 if v is not None}
    if overrides:
        cfg = cfg.override(overrides, source="arguments")
    out_dir = Path(out) if out is not None else run_dir
    if out_dir.exists() and not out_dir.is_dir():
        raise RunError(f"output directory {out_dir} exists and is not a directory")
    model = model_from(cfg, ckpt)
    _samples(cfg, cfg.test.hold)  # a bad hold is reported before anything is written
    if not quiet:
        s = sys.stderr if stream is None else stream
        if ckpt.fallback:
            s.write(f"brian-effplast: warning: {ckpt.fallback}\n")
        s.write(f"brian-effplast: testing {run_dir} (t = {float(ckpt['t']):g}, status {summary['status']}): "
                f"{cfg.test.angles} angles x {cfg.test.hold:g} time units, {cfg.run.replicas} replica(s), "
                f"target {cfg.run.target}\n")
        s.flush()
    data = held_stimulus_test(model)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_npz(out_dir / FILES["test"], **data)
    from . import plotting
    write_figure(out_dir / FILES["tuning_png"], plotting.population_tuning(data))
    write_figure(out_dir / FILES["outputs_png"], plotting.output_distributions(data, model.task))
    result = {"test": str(out_dir / FILES["test"]), "tuning": str(out_dir / FILES["tuning_png"]),
              "outputs": str(out_dir / FILES["outputs_png"]), "angles": cfg.test.angles,
              "samples": data["rates"].shape[2]}
    result.update(scores(data, model.task))
    return result


def scores(data, task):
    """The task's test score (:meth:`Task.score <brian_effplast.tasks.Task.score>` of the
    mean :meth:`~brian_effplast.tasks.Task.test_error`), averaged over replicas,
    samples and test angles, uniformly (``"mse"`` for estimation, ``"accuracy"``
    for classification) and weighted by the stimulus prior when ``data`` has
    ``prior_mu`` / ``prior_kappa`` (``"mse_prior"``, ``"accuracy_prior"``)."""
    task = get_task(task)
    angles = np.asarray(data["angles"])
    per_angle = per_angle_error(data, task).mean(axis=0)
    out = {task.score_name: float(task.score(np.mean(per_angle)))}
    if "prior_mu" in data and "prior_kappa" in data:
        w = prior_weights(angles, data["prior_mu"], data["prior_kappa"])
        out[task.score_name + "_prior"] = float(task.score(np.sum(w * per_angle)))
    return out


def per_angle_error(data, task):
    """Mean :meth:`~brian_effplast.tasks.Task.test_error` per replica and test angle, ``(R, K)``."""
    task = get_task(task)
    y, angles = np.asarray(data["outputs"]), np.asarray(data["angles"])  # (R, K, S, n_out), (K,)
    return task.test_error(y, angles[None, :, None]).mean(axis=2)
