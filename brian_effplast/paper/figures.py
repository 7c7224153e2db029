"""Reproduce the figures of Bredenberg, Simoncelli & Savin (NeurIPS 2020).

:func:`make_figures` trains (or reuses) every model the figures need, tests
each one at three stages (untrained, a mid-training snapshot, trained) with
the test protocol of :func:`brian_effplast.runs.protocol.run_test`, and draws every panel
of Figs. 1-3 and the Supplementary Fig. S1 variants::

    OUT/runs/<experiment>/init    untrained model (t = 0), test.npz
    OUT/runs/<experiment>/mid     snapshot after `mid` time units, test.npz
    OUT/runs/<experiment>/final   the whole training (mid continued with
                                  runs.resume), test.npz, learning curve
    OUT/figures/<panel>.png/.pdf  one file per panel
    OUT/figures/overview.png      all panels
    OUT/figures.json              the numbers behind each panel, timings
                                  and the verdicts (brian_effplast.paper.verdicts)
    OUT/verdicts.md               each claim's test across the networks, a table

Existing complete stages under ``OUT/runs`` are reused (so an interrupted
command can simply be repeated). Experiments run in parallel worker
processes (one per core by default); each cpp_standalone process gets its
own cached project slot.

Defaults (``brian-effplast figures --out DIR``): the paper's 20 networks, 260000 time
units of training, the mid snapshot at 10000, tested with the authors' protocol
(100 trials of 5 stimuli of 200 time units from the 12 input angles, each trial
from r = 0.1); ``--quick``: 2 replicas, 3000 time units (mid 600), the authors'
protocol shortened to 20 trials of 5 stimuli of 40 time units.

Where things are: the experiments and running them in
:mod:`~brian_effplast.paper.experiments`; one function per panel, computing the
panel's numbers and drawing it, in :mod:`~brian_effplast.paper.fig1`,
:mod:`~brian_effplast.paper.fig2` and :mod:`~brian_effplast.paper.fig3`
(listed in :data:`PANELS`); here the loop over them.
"""

import functools
import json
import math
import time
from pathlib import Path

from . import fig1 as f1
from . import fig2 as f2
from . import fig3 as f3
from .experiments import (DEFAULTS, EXPERIMENTS, QUICK, SIGMAS, SIGMAS_LAMSCALED, STAGES, TEST_KEYS, check_reuse,
                          load_all, check_duration, describe_test, mid_duration, run_experiment)
from ..plotting import new_figure

__all__ = ["make_figures", "EXPERIMENTS", "DEFAULTS", "QUICK", "mid_duration", "panel_data", "run_experiment",
           "PANELS", "SIGMAS", "STAGES"]

#: panel name -> function(data, draw=True) returning (numbers or None, Figure or None), in drawing order
PANELS = {
    "fig1b": f1.fig1b, "fig1c": f1.fig1c, "fig1d": f1.fig1d, "fig1e": f1.fig1e, "fig1f": f1.fig1f,
    "fig2a": f2.fig2a, "fig2b": f2.fig2b, "fig2c": f2.fig2c, "fig2d": f2.fig2d,
    "fig3a": f3.fig3a, "fig3b": f3.fig3b, "fig3c": f3.fig3c, "fig3d": f3.fig3d,
    "figS1a": f1.figS1a, "figS1b": f1.figS1b, "figS1c": f1.figS1c, "figS1d": f2.figS1d,
    "figS1e": f1.figS1e, "figS1f": f2.figS1f, "figS1g": f3.figS1g,
    # Fig. 3 again with the paper's lambda_W = sigma^2 lambda
    **{f"{name}_lamscaled": functools.partial(getattr(f3, name), sigmas=SIGMAS_LAMSCALED)
       for name in ("fig3a", "fig3b", "fig3c", "fig3d", "figS1g")},
}


def panel_data(data):
    """The numbers behind every panel (a JSON-ready dict; panels without numbers left out)."""
    out = {}
    for name, panel in PANELS.items():
        numbers, _ = panel(data, draw=False)
        if numbers is not None:
            out[name] = numbers
    return out


def _overview(paths, out_png, ncol=5):
    import matplotlib.image as mpimg
    n = len(paths)
    nrow = int(math.ceil(n / ncol))
    fig = new_figure(4.2 * ncol, 3.0 * nrow)
    for i, p in enumerate(paths):
        ax = fig.add_subplot(nrow, ncol, i + 1)
        ax.imshow(mpimg.imread(p))
        ax.set_axis_off()
    fig.savefig(out_png, dpi=110)


def make_figures(out_dir, replicas=None, duration=None, quick=False, target="cpp_standalone",
                 workers=None, scheduler=None, log=print, report=False, **test):
    """Run (or reuse) the experiments and draw every panel; returns figures.json's dict.

    The experiments run as tasks on dask.distributed
    (:func:`~brian_effplast.runs.sweep.cluster_client`): an embedded cluster of
    ``workers`` processes (default: the cores), or the running scheduler at
    ``scheduler``; ``workers = 1`` runs them one after another in this process. ``test``: the
    test protocol's :data:`~brian_effplast.paper.experiments.TEST_KEYS` (``protocol``, ``angles``,
    ``hold``, ``trials``, ``record_every``), each replacing its :data:`DEFAULTS` (or :data:`QUICK`) value.

    ``report=True`` runs nothing: it draws the panels and judges the claims of the experiments
    whose three stages are tested in ``out_dir`` so far (a run still in progress), and lists
    the panels and claims still waiting for an experiment (``figures.json``: ``partial``).
    """
    base = dict(QUICK if quick else DEFAULTS)
    unknown = set(test) - set(TEST_KEYS)
    if unknown:
        raise TypeError(f"make_figures() got unexpected keyword arguments {sorted(unknown)}")
    for k, v in (("replicas", replicas), ("duration", duration), *test.items()):
        if v is not None:
            base[k] = v
    R, T = int(base["replicas"]), float(base["duration"])
    test = {k: base[k] for k in TEST_KEYS if base.get(k) is not None}
    protocol = describe_test(test)
    check_duration(T, R, target)
    mid = mid_duration(T)
    out = Path(out_dir)
    root = out / "runs"
    figdir = out / "figures"
    root.mkdir(parents=True, exist_ok=True)
    figdir.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    where = f"scheduler {scheduler}" if scheduler else f"{workers or 'one per core'} worker(s)"
    log(f"brian-effplast figures: {len(EXPERIMENTS)} experiments, {R} networks each, {T:g} time units "
        f"(snapshot at {mid:g}), tested with {protocol}, {where}, target {target} -> {out}")
    check_reuse(root, R, T, protocol)
    timings = {}
    # the sweep under the other lambda scheme last: a run stopped part-way (--report) then has
    # the most of the paper's own panels
    order = sorted(EXPERIMENTS, key=lambda n: n.endswith("_lamscaled"))
    args = [(n, str(root), R, T, mid, test, target) for n in order]
    if report:
        pass
    elif workers == 1 and scheduler is None:
        for a in args:
            name, tm = run_experiment(*a)
            timings[name] = tm
            log(f"  {name}: done in {tm['total']:.0f} s")
    else:
        from dask.distributed import as_completed
        from ..runs.sweep import cluster_client
        with cluster_client(workers, scheduler) as client:
            futures = [client.submit(run_experiment, *a, key=f"brian-effplast-figures-{a[0]}-{time.time_ns()}",
                                     pure=False) for a in args]
            for done, future in enumerate(as_completed(futures), 1):
                name, tm = future.result()
                timings[name] = tm
                log(f"  {name}: done in {tm['total']:.0f} s ({done}/{len(args)}, "
                    f"{time.perf_counter() - t_start:.0f} s elapsed)")
    t_sim = time.perf_counter() - t_start
    t1 = time.perf_counter()
    data = load_all(root, complete_only=report)
    numbers, paths, pending = {}, [], []
    for name, panel in PANELS.items():
        try:
            panel_numbers, fig = panel(data)
        except KeyError as missing:  # (report) an experiment the panel draws is not complete yet
            if not report or missing.args[0] not in EXPERIMENTS:
                raise
            pending.append(name)
            continue
        if panel_numbers is not None:
            numbers[name] = panel_numbers
        fig.savefig(figdir / f"{name}.png", dpi=120)
        fig.savefig(figdir / f"{name}.pdf")
        paths.append(figdir / f"{name}.png")
    if paths:
        _overview(paths, figdir / "overview.png")
    t_draw = time.perf_counter() - t1
    result = {"settings": {"replicas": R, "duration": T, "mid_snapshot": mid, "test": test,
                           "test_protocol": protocol, "target": target, "workers": workers,
                           "scheduler": scheduler, "quick": bool(quick),
                           "experiments": {n: {"model": e[0], "overrides": e[1], "seed": e[2]}
                                           for n, e in EXPERIMENTS.items()}},
              "timings": {"experiments": timings, "simulation_wall_s": round(t_sim, 1),
                          "analysis_and_drawing_s": round(t_draw, 1),
                          "total_wall_s": round(time.perf_counter() - t_start, 1)},
              "panels": numbers,
              "files": {"overview": str(figdir / "overview.png"), "panels": [str(p) for p in paths]}}
    if report:
        result["partial"] = {"complete_experiments": sorted(data), "pending_panels": pending,
                             "pending_experiments": sorted(set(EXPERIMENTS) - set(data))}
    # training wall times as recorded by the runs themselves (also when reused)
    result["timings"]["run_wall_s"] = {
        n: {st: round(float(data[n]["summary"].get("wall_seconds", 0.0)) if st == "final" else
                      float(json.loads((root / n / st / "summary.json").read_text()).get("wall_seconds", 0.0)), 1)
            for st in ("mid", "final")} for n in data}
    try:  # keep the timings of the run that did the simulations when this one reused them
        old = json.loads((out / "figures.json").read_text())["timings"]
        prev = old.get("first_run", old)
        if prev.get("simulation_wall_s", 0) > result["timings"]["simulation_wall_s"]:
            prev.pop("first_run", None)
            result["timings"]["first_run"] = prev
    except (OSError, ValueError, KeyError):
        pass
    from ..runs.rundir import write_json, write_text
    from .verdicts import judge, verdict_table
    result["verdicts"] = judge(data)  # every claim tested across the networks (brian_effplast.paper.verdicts)
    table = verdict_table(result["verdicts"])
    if report:
        table = (f"Partial: the experiments complete so far ({', '.join(sorted(data)) or 'none'}); the claims "
                 f"that need {', '.join(result['partial']['pending_experiments'])} are not judged yet.\n\n" + table)
    write_text(out / "verdicts.md", table)
    write_json(out / "figures.json", result)
    log(f"brian-effplast figures: {len(paths)} panels in {figdir}, overview {figdir / 'overview.png'}, "
        f"numbers in {out / 'figures.json'} ({result['timings']['total_wall_s']:.0f} s)")
    return result
