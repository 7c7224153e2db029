"""The statistics of the verdicts: one claim's per-network values tested
across networks (replicas), each network one independent observation.

* the same networks measured twice (after vs before training, near vs far
  from the prior mode): a paired t-test (:func:`scipy.stats.ttest_rel`),
  with the Wilcoxon signed-rank test as a robustness check;
* two experiments (narrow vs standard prior, sigma = 0.5 vs 0.1): Welch's
  t-test (:func:`scipy.stats.ttest_ind`, ``equal_var=False``), with the
  Mann-Whitney U test beside it;
* one quantity against a constant (a log rate ratio against 0, a fraction
  against 1/2): a one-sample t-test (:func:`scipy.stats.ttest_1samp`), with
  the Wilcoxon signed-rank test of the differences.

The effect's 95% interval is a percentile bootstrap over networks.
"""

import warnings

import numpy as np
from scipy import stats

__all__ = ["compare", "bootstrap_interval", "robust_p", "VERDICTS"]

#: The verdicts :func:`judge` gives.
VERDICTS = ("holds", "not significant", "opposite", "descriptive", "untestable")

def bootstrap_interval(x, y, paired, kind, reference, n_boot, rng, level=0.95):
    """Percentile bootstrap interval of the effect, resampling networks (pairs together when paired)."""
    def stat(xs, ys):
        if ys is None:
            return xs.mean(-1) - reference
        if kind == "ratio":
            with np.errstate(divide="ignore", invalid="ignore"):
                return xs.mean(-1) / ys.mean(-1)
        return xs.mean(-1) - ys.mean(-1)
    ix = rng.integers(0, x.size, size=(n_boot, x.size))
    if y is None:
        boot = stat(x[ix], None)
    elif paired:
        boot = stat(x[ix], y[ix])
    else:
        boot = stat(x[ix], y[rng.integers(0, y.size, size=(n_boot, y.size))])
    q = 100 * (1 - level) / 2
    return tuple(float(v) for v in np.nanpercentile(boot, [q, 100 - q]))


def robust_p(x, y, paired, alternative, reference):
    """Wilcoxon signed-rank (paired, one-sample) or Mann-Whitney U p-value; NaN where undefined."""
    try:
        if y is None:
            return float(stats.wilcoxon(x - reference, alternative=alternative).pvalue)
        if paired:
            return float(stats.wilcoxon(x, y, alternative=alternative).pvalue)
        return float(stats.mannwhitneyu(x, y, alternative=alternative).pvalue)
    except ValueError:  # e.g. every difference 0
        return float("nan")


def compare(x, y=None, paired=False, alternative="greater", reference=0.0, alpha=0.05, kind="test",
            n_boot=10000, seed=0):
    """Test one claim on per-network values.

    Parameters
    ----------
    x : array_like, shape (n_x,)
        One value per network.
    y : array_like, shape (n_y,), optional
        The values to compare ``x`` with (``None``: a one-sample test of ``x``
        against ``reference``).
    paired : bool
        Whether ``x[i]`` and ``y[i]`` are the same network (paired t-test)
        or ``x`` and ``y`` are different networks (Welch's t-test).
    alternative : {"greater", "less", "two-sided"}
        The claimed direction of ``x - y`` (``x - reference``).
    reference : float
        The constant of a one-sample test.
    alpha : float
        Significance level.
    kind : {"test", "descriptive", "ratio"}
        ``"descriptive"``: not a claim, reported as ``mean(x) - mean(y)``
        with its bootstrap interval and the two-sided p-value; ``"ratio"``:
        the same with ``mean(x) / mean(y)``. The verdict of both is
        ``"descriptive"``.
    n_boot : int
        Bootstrap resamples of the effect's interval.
    seed : int
        Seed of the bootstrap's :class:`numpy.random.Generator`.

    Returns
    -------
    dict
        ``test``, ``robust_test``, ``n`` (networks used: pairs, or the sum of
        both groups), ``n_x``, ``n_y``, ``dropped`` (networks left out as
        NaN or infinite), ``mean_x``, ``mean_y``, ``effect`` (``mean(x) - mean(y)``, or
        ``mean(x) - reference``, or the ratio), ``effect_kind``, ``ci_low``,
        ``ci_high`` (95% percentile bootstrap interval of the effect),
        ``statistic`` (t), ``p`` (in the claimed direction), ``p_two_sided``,
        ``p_robust`` (Wilcoxon / Mann-Whitney in the claimed direction) and
        ``verdict``: ``"holds"`` when ``p < alpha``, ``"opposite"`` when
        the two-sided test is significant the other way, ``"not
        significant"`` otherwise, ``"untestable"`` with fewer than 2
        networks (per group) or an undefined statistic (e.g. no variance).
        Undefined numbers are ``None`` (JSON-ready).

    Notes
    -----
    Networks whose value is NaN or infinite (undefined, e.g. a ratio over 0)
    are dropped first (in a paired comparison the pair is dropped).
    """
    x = np.asarray(x, dtype=float).ravel()
    one = y is None
    y = None if one else np.asarray(y, dtype=float).ravel()
    n_in = x.size + (0 if one else y.size)
    if not one and paired:
        if x.size != y.size:
            raise ValueError(f"a paired comparison needs as many x as y, got {x.size} and {y.size}")
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = x[ok], y[ok]
    else:
        x = x[np.isfinite(x)]
        y = None if one else y[np.isfinite(y)]
    if one:
        test, robust, n = "one-sample t", "Wilcoxon signed-rank", x.size
    elif paired:
        test, robust, n = "paired t", "Wilcoxon signed-rank", x.size
    else:
        test, robust, n = "Welch t", "Mann-Whitney U", x.size + y.size
    out = {"test": test, "robust_test": robust, "n": int(n), "n_x": int(x.size),
           "n_y": None if one else int(y.size), "dropped": int(n_in - x.size - (0 if one else y.size)),
           "mean_x": float(np.mean(x)) if x.size else None,
           "mean_y": None if one or not y.size else float(np.mean(y)),
           "effect_kind": "ratio" if kind == "ratio" else "difference",
           "effect": None, "ci_low": None, "ci_high": None, "statistic": None, "p": None, "p_two_sided": None,
           "p_robust": None, "verdict": "untestable"}
    if x.size < 2 or (not one and y.size < 2):
        return json_ready(out)
    if one:
        out["effect"] = out["mean_x"] - reference
    elif kind == "ratio":
        out["effect"] = out["mean_x"] / out["mean_y"] if out["mean_y"] != 0 else float("nan")
    else:
        out["effect"] = out["mean_x"] - out["mean_y"]
    out["ci_low"], out["ci_high"] = bootstrap_interval(x, y, paired, kind, reference, n_boot, np.random.default_rng(seed))

    def ttest(alt):
        if one:
            return stats.ttest_1samp(x, reference, alternative=alt)
        if paired:
            return stats.ttest_rel(x, y, alternative=alt)
        return stats.ttest_ind(x, y, equal_var=False, alternative=alt)
    with warnings.catch_warnings():
        # degenerate samples (all values equal) warn in SciPy; they end as NaN p -> "untestable"
        warnings.simplefilter("ignore", RuntimeWarning)
        res, two = ttest(alternative), ttest("two-sided")
        out["p_robust"] = robust_p(x, y, paired, alternative, reference)
    out["statistic"], out["p"], out["p_two_sided"] = float(res.statistic), float(res.pvalue), float(two.pvalue)
    diff = out["mean_x"] - (reference if one else out["mean_y"])
    if kind in ("descriptive", "ratio"):
        out["verdict"] = "descriptive"
    elif not np.isfinite(out["p"]):
        out["verdict"] = "untestable"
    elif out["p"] < alpha:
        out["verdict"] = "holds"
    elif out["p_two_sided"] < alpha and ((alternative == "greater" and diff < 0) or
                                         (alternative == "less" and diff > 0)):
        out["verdict"] = "opposite"
    else:
        out["verdict"] = "not significant"
    return json_ready(out)


def json_ready(d):
    """Non-finite floats as None (figures.json is strict JSON)."""
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in d.items()}
