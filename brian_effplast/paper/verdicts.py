"""Verdicts: each claim of Figs. 1-3 and S1 judged by a statistical test
across the networks (replicas) of a figures run.

The panels (:mod:`brian_effplast.paper.fig1`, ``fig2``, ``fig3``) show
means ± s.e.m.; whether a claim holds is decided here, one test per claim,
with each network (replica) as one independent observation
(:mod:`brian_effplast.paper.statistics` says which test when).
:data:`~brian_effplast.paper.claims.CLAIMS` lists the claims in the order of
the paper, :func:`judge` runs them on the loaded runs
(:func:`brian_effplast.paper.experiments.load_all`) and
:func:`verdict_table` writes the result as a Markdown table
(``OUT/verdicts.md`` of ``brian-effplast figures``).

The p-values are not corrected for the number of claims tested: with
three dozen claims at ``alpha = 0.05``, one or two "holds" are expected by
chance if every claim were false.
"""

from .claims import CLAIMS, Claim, PanelCache
from .statistics import VERDICTS, compare

__all__ = ["Claim", "CLAIMS", "compare", "judge", "verdict_table", "VERDICTS"]


def judge(data, alpha=0.05, claims=None, n_boot=10000, seed=0):
    """Judge every claim whose experiments are in ``data``.

    Parameters
    ----------
    data : dict
        The loaded runs, :func:`brian_effplast.paper.experiments.load_all`
        (``{experiment: {stage: test data, "curve", "config", ...}}``); it
        may hold only some experiments.
    alpha : float
        Significance level of every test (not corrected for the number of
        claims).
    claims : list of Claim, optional
        The claims to judge (default :data:`CLAIMS`).
    n_boot, seed : int
        Bootstrap resamples and seed of the effect intervals (:func:`compare`).

    Returns
    -------
    list of dict
        One dict per claim judged, in the order of ``claims``: ``key``,
        ``panel``, ``claim``, ``x_label``, ``y_label``, ``alternative``,
        ``reference``, ``note``, and the statistics of :func:`compare`.
        Claims that need an experiment missing from ``data`` are left out.
    """
    data = PanelCache(data)
    results = []
    for c in CLAIMS if claims is None else claims:
        if not all(name in data for name in c.needs):
            continue
        x, y, paired, alternative = c.compute(data)
        r = {"key": c.key, "panel": c.panel, "claim": c.claim, "x_label": c.labels[0],
             "y_label": None if y is None else c.labels[1], "alternative": alternative,
             "reference": float(c.reference) if y is None else None, "note": c.note}
        r.update(compare(x, y, paired, alternative, c.reference, alpha, c.kind, n_boot, seed))
        results.append(r)
    return results


def _g(v, fmt=".3g"):
    return "–" if v is None else format(v, fmt)


def _p(v):
    if v is None:
        return "–"
    return "<1e-4" if v < 1e-4 else format(v, ".2g")


def verdict_table(results, alpha=0.05):
    """The results of :func:`judge` as a Markdown table.

    Parameters
    ----------
    results : list of dict
        :func:`judge`'s results.
    alpha : float
        The level they were judged at (for the heading only).

    Returns
    -------
    str
        A Markdown table ``panel | claim | test | n | x vs y | effect [95%
        CI] | p | verdict``, with the robustness p-value (Wilcoxon /
        Mann-Whitney) beside the t-test's, and notes below.
    """
    lines = [f"Claims tested across networks (replicas), alpha = {alpha:g}, one-sided in the claimed direction; "
             "p uncorrected for the number of claims. p (robust): Wilcoxon signed-rank (paired, one-sample) or "
             "Mann-Whitney U (Welch). effect: mean(x) - mean(y) (or - reference), 95% percentile bootstrap interval "
             "over networks (too narrow with few networks).", "",
             "| panel | claim | test | n | x vs y | effect [95% CI] | p (robust) | verdict |",
             "|---|---|---|---|---|---|---|---|"]
    notes = []
    for r in results:
        n = str(r["n"]) if r["n_y"] is None or r["test"] == "paired t" else f"{r['n_x']}+{r['n_y']}"
        if r.get("dropped"):
            n += f" ({r['dropped']} NaN dropped)"
        if r["y_label"] is None:
            xy = f"{r['x_label']} {_g(r['mean_x'])} vs {_g(r['reference'], 'g')}"
        else:
            xy = f"{r['x_label']} {_g(r['mean_x'])} vs {r['y_label']} {_g(r['mean_y'])}"
        eff = f"{_g(r['effect'])} [{_g(r['ci_low'])}, {_g(r['ci_high'])}]"
        if r["effect_kind"] == "ratio":
            eff = "ratio " + eff
        test = r["test"] + ("" if r["alternative"] == "two-sided" else f", {r['alternative']}")
        cells = [r["panel"], r["claim"], test, n, xy, eff, f"{_p(r['p'])} ({_p(r['p_robust'])})", r["verdict"]]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")  # "|θ|" must not split a cell
        if r.get("note"):
            notes.append(f"- {r['key']} ({r['panel']}): {r['note']}")
    if notes:
        lines += ["", "Notes:", ""] + notes
    return "\n".join(lines) + "\n"
