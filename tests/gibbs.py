"""Quadrature reference for the stationary (Gibbs) density of the circuit.

Tests only: this module must not import ``brian2`` or ``brian_effplast``.

For symmetric ``W`` the circuit (paper Eq. 2, ``docs/model.md``)

    dr = [-f^-1(r) + W r + h] dt + sigma dB,      h = C s + b,

is a Langevin process ``dr = -grad E dt + sigma dB`` with the energy (Eq. 3)

    E(r) = -1/2 r^T W r + sum_i F(r_i) - h^T r,   F(r) = int_0^r f^-1(x) dx,

and its stationary density is the Gibbs density ``p(r|s) = exp(-E/T)/Z``.

Temperature (read this). For standard Brownian motion (``dB ~ N(0, dt)``,
as in ``docs/model.md``: ``sigma * sqrt(dt) * z``) the Fokker-Planck equation
``0 = div(p grad E) + (sigma^2 / 2) lap p`` gives ``T = sigma^2 / 2``, i.e.
``p ~ exp(-2 E / sigma^2)``. The paper's Eq. 4 prints ``exp(-E / sigma^2)``
(``T = sigma^2``), which would be right only for noise of variance ``2 dt``.
An Euler-Maruyama run of the model (``tests/test_gibbs_quadrature.py``)
follows ``T = sigma^2 / 2`` and rejects ``T = sigma^2``. Every function here
takes ``convention="sde"`` (default, ``T = sigma^2 / 2``) or
``convention="paper"`` (``T = sigma^2``); see :func:`temperature`. For the
learning rule the difference is a positive factor 2 in the gradient (a
learning-rate rescaling): the rule's direction is the same either way.

Domain. Rates live on ``(0, inf)``; the simulation clips them to ``[r_min,
r_max] = [0.001, 100]``. As ``dt -> 0`` clipping is a reflecting wall and the
stationary law of the reflected process is the same Gibbs density restricted
to the box, so the quadrature integrates over ``[r_lo, inf)^N`` with ``r_lo =
R_MIN = 0.001`` by default (``r_lo=0`` gives the density on ``(0, inf)``);
``r_max = 100`` is never reached for a normalisable density.

Grid. A tensor grid (``N = 1, 2``; any small ``N`` works, the cost is
``n**N``) adapted to the density: a coarse search brackets the set where
``log p >= max log p - n_sd^2 / 2`` (``n_sd = 12``, a relative density of
``e^-72``), and the spacing is ``sd / points_per_sd`` with ``sd`` the
smaller of the marginal standard deviation and the conditional one
``sqrt(T / (d^2E/dr_i^2))`` at the mode. Where the support reaches the wall
the axis is graded towards it (``r = ell log(1 + exp(u))``, ``u`` uniform:
logarithmic spacing for ``r << ell``), because ``F(r) ~ r log r / g`` makes
the integrand non-smooth on the scale of ``r`` itself there; with a uniform
grid the quadrature converges only like ``h^2``. 1-D weights are composite
Simpson (in ``u`` where graded). ``tests/test_gibbs_quadrature.py`` checks
convergence by halving the spacing and against ``scipy.integrate.quad``.

Gradient conventions (keep the factors straight)
-------------------------------------------------
Write ``Cov(alpha, x) = E[alpha (x - <x>)]`` with ``<x>`` the conditional
mean under ``p(r|s)`` and ``O(theta) = E[alpha(D r, target)]`` for one
stimulus. Since ``dp/dtheta = -(dE/dtheta - <dE/dtheta>) p / T``:

* symmetric off-diagonal pair ``w_ij = w_ji = w`` (``i != j``), both entries
  moved together by ``eps``: ``-1/2 r^T W r`` changes by ``-eps r_i r_j``
  (the ``1/2`` times the two entries), so ``dO/dw = Cov(alpha, r_i r_j) / T``
  -- the paper's Eqs. 8-10 (which differentiate with respect to the tied
  pair, with ``T = sigma^2``);
* diagonal ``w_ii``: ``-1/2 r^T W r`` changes by ``-eps r_i^2 / 2``, so
  ``dO/dw_ii = Cov(alpha, r_i^2) / (2 T)``;
* one input weight ``c_ik`` (``h_i`` changes by ``eps s_k``):
  ``dO/dc_ik = Cov(alpha, r_i s_k) / T = s_k Cov(alpha, r_i) / T``;
* one bias ``b_i``: ``dO/db_i = Cov(alpha, r_i) / T``.

Equivalently, treating every entry ``W[i, j]`` as a free variable in the
formula ``-1/2 r^T W r`` (off the symmetric manifold), the per-entry partial
is ``dO/dW[i, j] = Cov(alpha, r_i r_j) / (2 T)`` for *every* entry, diagonal
or not.

The library's rule moves *each* entry by ``eta * alpha (r_i r_j - <>)``
(``docs/model.md`` step 6), whose expectation is ``delta = eta Cov(alpha,
r_i r_j)``:

* per entry that is ``2 T eta`` times the per-entry partial, for all ``i,
  j``; for ``C`` and ``b`` entries it is ``T eta`` times the partial;
* for a symmetric pair both entries move by ``delta``, i.e. the tied
  parameter ``w`` moves by ``delta = T eta dO/dw`` (the sum of the two entry
  updates, ``2 delta``, is ``2 T eta dO/dw``) and ``O`` changes by ``delta *
  dO/dw``; the rule keeps ``W`` symmetric;
* for a diagonal entry ``delta = eta Cov = 2 T eta dO/dw_ii``.

So the rule is gradient ascent on ``O`` with positive, entry-dependent
steps (twice as large, relative to the gradient, on the diagonal of ``W``
as on the tied off-diagonal pairs, ``C`` and ``b``).
:func:`rule_expectation` returns ``Cov(alpha, x) / T``;
:func:`analytic_gradient` applies the ``1/2`` on the diagonal;
:func:`fd_gradient` is the central finite difference. With a fixed grid the
derivative of the quadrature objective is exactly the discrete covariance,
so finite differences and the rule agree up to the finite-difference
truncation error: what the comparison checks is the factors (the
convergence of the quadrature itself is checked separately).

Goodness of fit with simulated samples
--------------------------------------
:func:`sample_gof` (N = 1, Kolmogorov-Smirnov) and :func:`sample_gof_2d`
(N = 2, chi-square) assume *independent* samples. Samples of one simulated
trajectory are autocorrelated (the relaxation time of ``r`` is about
``1 / (1 - lambda_max(W))`` time units in the near-linear regime, ~100 steps
at ``dt = 0.01``); the caller must thin them to roughly independent draws,
e.g. keep one sample every 5-10 correlation times after a burn-in of the
same length, and/or take one sample per independent replica. Without
thinning both tests reject far too often. Two further caveats for
Euler-Maruyama samples: clipping at ``r_min`` puts an atom of mass
``O(sigma sqrt(dt) p(r_min))`` exactly at ``r_min`` (about 1.7% for ``N = 1,
w = 0.2, h = 0.15, sigma = 0.2, dt = 0.01``), which a KS test detects; pass
``condition_above`` (a few ``sigma sqrt(dt)`` above ``r_min``, e.g. ``0.02``)
to test the law away from the wall and its Euler boundary layer. And
the discrete-time stationary law differs from the continuous one by
``O(dt)``, detectable only with very many samples.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import integrate, optimize, special, stats

#: Default softplus parameters (the authors' published values).
SOFTPLUS_DEFAULT = dict(a=0.0, beta=1.0 / 30.0, g=30.0)
#: Lower rate bound of the simulation (clip); default lower quadrature limit.
R_MIN = 1e-3
#: Upper rate bound of the simulation (never reached by the quadrature).
R_MAX = 100.0
#: Temperature conventions: ``T = sigma^2 / 2`` (exact for Eq. 2 with
#: standard Brownian motion, what the simulation samples) or ``T = sigma^2``
#: (the paper's Eq. 4 as printed).
CONVENTIONS = ("sde", "paper")


def temperature(sigma, convention="sde"):
    """Temperature ``T`` of ``p ~ exp(-E / T)`` for noise amplitude ``sigma``:
    ``sigma^2 / 2`` for ``convention="sde"``, ``sigma^2`` for ``"paper"``."""
    if convention == "sde":
        return 0.5 * float(sigma) ** 2
    if convention == "paper":
        return float(sigma) ** 2
    raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")


# ---------------------------------------------------------------------------
# Softplus F-I curve
# ---------------------------------------------------------------------------

def softplus_f(x, a=0.0, beta=1.0 / 30.0, g=30.0):
    """``f(x) = beta * log(1 + exp(a + g x))`` (overflow-safe)."""
    return beta * np.logaddexp(0.0, a + g * np.asarray(x, dtype=float))


def softplus_finv(r, a=0.0, beta=1.0 / 30.0, g=30.0):
    """``f^-1(r) = (log(exp(r/beta) - 1) - a) / g`` for ``r > 0``.

    Written as ``(x + log(1 - exp(-x)) - a) / g`` with ``x = r / beta`` so that
    it does not overflow for large ``r``; ``f^-1(0) = -inf``.
    """
    x = np.asarray(r, dtype=float) / beta
    with np.errstate(divide="ignore"):
        return (x + np.log(-np.expm1(-x)) - a) / g


def softplus_finv_prime(r, a=0.0, beta=1.0 / 30.0, g=30.0):
    """``d f^-1 / dr = 1 / (g beta (1 - exp(-r/beta)))``."""
    x = np.asarray(r, dtype=float) / beta
    with np.errstate(divide="ignore"):
        return 1.0 / (g * beta * -np.expm1(-x))


def softplus_F(r, a=0.0, beta=1.0 / 30.0, g=30.0):
    """Exact ``F(r) = int_0^r f^-1(x) dx`` for the softplus curve.

    ``F(r) = (r^2 / (2 beta) + beta (Li2(exp(-r/beta)) - pi^2/6) - a r) / g``
    with the dilogarithm ``Li2(x) = scipy.special.spence(1 - x)``; ``F(0) = 0``.
    """
    r = np.asarray(r, dtype=float)
    x = r / beta
    li2 = special.spence(-np.expm1(-x))  # Li2(exp(-x)), 1 - exp(-x) computed exactly
    return (r * r / (2.0 * beta) + beta * (li2 - math.pi ** 2 / 6.0) - a * r) / g


def _fi(fi):
    p = dict(SOFTPLUS_DEFAULT)
    if fi:
        unknown = set(fi) - set(p)
        if unknown:
            raise ValueError(f"unknown softplus parameters {sorted(unknown)}; allowed: a, beta, g")
        p.update(fi)
    return p


# ---------------------------------------------------------------------------
# Energy and density
# ---------------------------------------------------------------------------

def _check(W, h, sigma):
    W = np.atleast_2d(np.asarray(W, dtype=float))
    h = np.atleast_1d(np.asarray(h, dtype=float))
    N = h.shape[0]
    if W.shape != (N, N):
        raise ValueError(f"W has shape {W.shape}, expected ({N}, {N}) to match h")
    if not np.allclose(W, W.T, rtol=0, atol=1e-12):
        raise ValueError("W must be symmetric: the Gibbs density exists only for symmetric W")
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    lam = np.linalg.eigvalsh(W).max()
    if lam >= 1.0:
        # F(r) ~ r^2 / (2 g beta) for large r (g beta = 1 by default)
        raise ValueError(f"largest eigenvalue of W is {lam:.3g} >= 1: the density is not normalisable")
    return W, h


def energy(points, W, h, fi=None):
    """``E(r) = -1/2 r^T W r + sum_i F(r_i) - h^T r`` at ``points`` (shape ``(..., N)``)."""
    p = _fi(fi)
    r = np.asarray(points, dtype=float)
    W = np.atleast_2d(np.asarray(W, dtype=float))
    h = np.atleast_1d(np.asarray(h, dtype=float))
    quad = np.einsum("...i,ij,...j->...", r, W, r)
    return -0.5 * quad + softplus_F(r, **p).sum(axis=-1) - r @ h


def _energy_tensor(axes, W, h, fi):
    """Energy on the tensor grid spanned by ``axes`` (shape ``(n_1, ..., n_N)``)."""
    p = _fi(fi)
    N = len(axes)
    E = 0.0
    mesh = []
    for i, x in enumerate(axes):
        shape = [1] * N
        shape[i] = x.size
        xi = x.reshape(shape)
        mesh.append(xi)
        E = E + (softplus_F(x, **p) - h[i] * x).reshape(shape)
    for i in range(N):
        for j in range(N):
            if W[i, j] != 0.0:
                E = E - 0.5 * W[i, j] * mesh[i] * mesh[j]
    return np.broadcast_to(E, tuple(x.size for x in axes)).copy()


def quad_weights_1d(x):
    """Composite Simpson weights on a uniform grid with an odd number of nodes;
    trapezoid weights otherwise."""
    x = np.asarray(x, dtype=float)
    n = x.size
    if n < 2:
        raise ValueError("a quadrature axis needs at least 2 nodes")
    dx = np.diff(x)
    if n >= 3 and n % 2 == 1 and np.allclose(dx, dx[0], rtol=1e-9, atol=0):
        w = np.ones(n)
        w[1:-1:2] = 4.0
        w[2:-1:2] = 2.0
        return w * dx[0] / 3.0
    w = np.zeros(n)
    w[:-1] += dx / 2.0
    w[1:] += dx / 2.0
    return w


def _tensor_weights(weights_1d):
    w = np.asarray(weights_1d[0], dtype=float)
    for x in weights_1d[1:]:
        w = np.multiply.outer(w, np.asarray(x, dtype=float))
    return w


@dataclass
class GibbsGrid:
    """The Gibbs density on a tensor grid.

    Attributes
    ----------
    axes : tuple of 1-D arrays (nodes), one per neuron.
    axis_weights : tuple of 1-D arrays, the 1-D quadrature weights.
    weights : array, shape ``(n_1, ..., n_N)``; their tensor product, so
        ``sum(weights * g)`` integrates ``g``.
    density : array, same shape; normalised, ``sum(weights * density) == 1``.
    log_z : float; ``log int exp(-E / T) dr`` over the grid box.
    temperature : ``T`` (see :func:`temperature`).
    W, h, sigma, convention, fi, r_lo : the parameters it was computed for.
    """

    axes: tuple
    axis_weights: tuple
    weights: np.ndarray
    density: np.ndarray
    log_z: float
    W: np.ndarray
    h: np.ndarray
    sigma: float
    temperature: float
    convention: str
    fi: dict
    r_lo: float

    @property
    def shape(self):
        return self.density.shape

    @property
    def ndim(self):
        return len(self.axes)

    @property
    def quadrature(self):
        """``[(nodes, weights), ...]``; pass as ``grid_1d`` to reuse the rule."""
        return [(x, w) for x, w in zip(self.axes, self.axis_weights)]

    @property
    def points(self):
        """Grid nodes, shape ``(n_1, ..., n_N, N)``."""
        return np.stack(np.meshgrid(*self.axes, indexing="ij"), axis=-1)

    def mass(self):
        """``weights * density``: the probability carried by each node."""
        return self.weights * self.density

    def expect(self, values):
        """``E[values]``; ``values`` has shape ``grid.shape + extra``."""
        values = np.asarray(values, dtype=float)
        m = self.mass()
        m = m.reshape(m.shape + (1,) * (values.ndim - m.ndim))
        return (m * values).sum(axis=tuple(range(self.ndim)))

    def pdf(self, points):
        """Normalised density at arbitrary ``points`` (shape ``(..., N)``),
        zero outside the grid box."""
        r = np.asarray(points, dtype=float)
        lp = -energy(r, self.W, self.h, self.fi) / self.temperature - self.log_z
        inside = np.ones(r.shape[:-1], dtype=bool)
        for i, x in enumerate(self.axes):
            inside &= (r[..., i] >= x[0]) & (r[..., i] <= x[-1])
        return np.where(inside, np.exp(lp), 0.0)

    def marginal(self, axis):
        """Marginal density of neuron ``axis`` on ``axes[axis]``."""
        m = self.density
        for i in reversed(range(self.ndim)):
            if i != axis:
                m = np.tensordot(m, self.axis_weights[i], axes=([i], [0]))
        return m

    def mode(self):
        """Maximiser of the density (minimiser of E on ``[r_lo, inf)^N``),
        refined from the best grid node with a bounded optimiser."""
        idx = np.unravel_index(np.argmax(self.density), self.shape)
        x0 = np.array([x[i] for x, i in zip(self.axes, idx)])
        return _minimise_energy(x0, self.W, self.h, self.fi, self.r_lo)


def _minimise_energy(x0, W, h, fi, r_lo):
    p = _fi(fi)
    lo = max(r_lo, 1e-12)

    def fun(r):
        return float(energy(r, W, h, p)), softplus_finv(r, **p) - W @ r - h

    res = optimize.minimize(fun, np.maximum(x0, lo), jac=True, method="L-BFGS-B",
                            bounds=[(lo, None)] * len(h),
                            options=dict(ftol=1e-15, gtol=1e-13, maxiter=1000))
    return res.x


def _odd(n):
    return n + (n + 1) % 2


def uniform_axis(lo, hi, n):
    """``n`` (made odd) uniform nodes on ``[lo, hi]`` with Simpson weights."""
    x = np.linspace(lo, hi, _odd(max(int(n), 3)))
    return x, quad_weights_1d(x)


def graded_axis(lo, hi, dr, ell, du_max=0.2, max_points=None):
    """Nodes on ``[lo, hi]`` graded towards the wall at ``lo``.

    ``r = ell * log(1 + exp(u))`` with ``u`` uniform: spacing ``~ r du``
    (logarithmic) for ``r << ell`` and ``ell du`` for ``r >> ell``, with
    ``du = min(dr / ell, du_max)``. Weights are Simpson in ``u`` times
    ``dr/du = ell * expit(u)``; this integrates the ``r log r`` behaviour of
    ``F`` near the wall at the same order as the smooth part. ``lo = 0`` is
    replaced by ``1e-9 ell`` (the neglected mass is ``O(1e-9 ell p(0))``).
    """
    lo = max(float(lo), 1e-9 * ell)
    u_lo = math.log(math.expm1(lo / ell))
    u_hi = hi / ell + math.log(-math.expm1(-hi / ell))
    du = min(dr / ell, du_max)
    n = _odd(max(int(math.ceil((u_hi - u_lo) / du)) + 1, 3))
    if max_points is not None:
        n = min(n, _odd(max_points) if max_points % 2 else max_points - 1)
    u = np.linspace(u_lo, u_hi, n)
    x = ell * np.logaddexp(0.0, u)
    x[0], x[-1] = lo, hi
    w = quad_weights_1d(u) * ell * special.expit(u)
    return x, w


def make_grid(W, h, sigma, r_lo=R_MIN, fi=None, n_sd=12.0, points_per_sd=16.0,
              max_points=None, n_coarse=161, ell=None, du_max=0.1, convention="sde"):
    """Adaptive quadrature rule ``[(nodes, weights), ...]`` for the Gibbs density.

    Brackets ``{r : log p(r) >= max log p - n_sd^2 / 2}`` on a coarse grid
    (growing the box until the set does not touch its upper edge, then
    zooming in) and covers ``[max(r_lo, lower end - margin), upper end +
    margin]`` per neuron with spacing ``sd / points_per_sd`` (``sd`` = the
    smaller of the marginal standard deviation and the conditional one at
    the mode). Where the support reaches the wall ``r_lo`` the axis is
    graded towards it (:func:`graded_axis`, scale ``ell``, default ``3
    beta``, log-spacing at most ``du_max``); otherwise it is uniform.
    Composite Simpson weights.
    ``max_points`` caps the nodes per axis (default 20001 for ``N = 1``,
    1201 for ``N = 2``, 161 otherwise).
    """
    W, h = _check(W, h, sigma)
    p = _fi(fi)
    T = temperature(sigma, convention)
    N = h.size
    if max_points is None:
        max_points = {1: 20001, 2: 1201}.get(N, 161)
    if ell is None:
        ell = 3.0 * p["beta"]
    thr = 0.5 * n_sd ** 2
    lo = np.full(N, float(r_lo))
    hi = lo + 1.0
    for _ in range(60):  # grow / zoom
        axes = [np.linspace(lo[i], hi[i], n_coarse) for i in range(N)]
        cell = (hi - lo) / (n_coarse - 1)
        lp = -_energy_tensor(axes, W, h, p) / T
        keep = lp >= lp.max() - thr
        touching = False
        new_lo, new_hi = lo.copy(), hi.copy()
        for i in range(N):
            any_i = keep.any(axis=tuple(k for k in range(N) if k != i))
            idx = np.nonzero(any_i)[0]
            if idx[-1] >= n_coarse - 2:
                touching = True
            new_lo[i] = max(r_lo, axes[i][idx[0]] - 2 * cell[i])
            new_hi[i] = axes[i][idx[-1]] + 2 * cell[i]
        if touching:
            hi = lo + 2.0 * (hi - lo)
            continue
        if np.all(new_hi - new_lo > 0.7 * (hi - lo)):
            lo, hi = new_lo, new_hi
            break
        lo, hi = new_lo, new_hi
    else:  # pragma: no cover
        raise RuntimeError("could not bracket the support of the density")

    # scales: marginal sd on the coarse grid and conditional sd at the mode
    axes = [np.linspace(lo[i], hi[i], n_coarse) for i in range(N)]
    E = _energy_tensor(axes, W, h, p)
    dens = np.exp(-(E - E.min()) / T)
    m = dens * _tensor_weights([quad_weights_1d(x) for x in axes])
    m /= m.sum()
    pts = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)
    mean = (m[..., None] * pts).sum(axis=tuple(range(N)))
    var = (m[..., None] * (pts - mean) ** 2).sum(axis=tuple(range(N)))
    idx = np.unravel_index(np.argmin(E), E.shape)
    mode = _minimise_energy(np.array([x[i] for x, i in zip(axes, idx)]), W, h, p, r_lo)
    hess_diag = softplus_finv_prime(mode, **p) - np.diag(W)
    cond_sd = np.sqrt(T / np.maximum(hess_diag, 1e-300))
    sd = np.minimum(np.sqrt(var), cond_sd)
    out = []
    for i in range(N):
        dr = sd[i] / points_per_sd
        if lo[i] <= r_lo:
            out.append(graded_axis(lo[i], hi[i], dr, ell, du_max=du_max, max_points=max_points))
        else:
            n = int(math.ceil((hi[i] - lo[i]) / dr)) + 1
            out.append(uniform_axis(lo[i], hi[i], min(max(n, 101), max_points)))
    return out


def _as_rule(grid_1d, N):
    """Normalise ``grid_1d`` to ``[(nodes, weights)] * N``.

    Accepts a GibbsGrid (its rule is reused), one 1-D array of nodes (used
    for every neuron, Simpson/trapezoid weights from :func:`quad_weights_1d`),
    or a sequence of ``N`` entries, each an array of nodes or a ``(nodes,
    weights)`` pair.
    """
    if isinstance(grid_1d, GibbsGrid):
        return grid_1d.quadrature

    def one(a):
        if isinstance(a, tuple):
            x, w = (np.asarray(v, dtype=float) for v in a)
            if x.shape != w.shape or x.ndim != 1:
                raise ValueError("a (nodes, weights) pair needs two 1-D arrays of equal length")
            return x, w
        x = np.asarray(a, dtype=float)
        return x, quad_weights_1d(x)

    if not isinstance(grid_1d, tuple) and np.ndim(grid_1d) == 1 and np.ndim(grid_1d[0]) == 0:
        return [one(grid_1d)] * N
    rule = [one(a) for a in grid_1d]
    if len(rule) != N:
        raise ValueError(f"got {len(rule)} grid axes for N = {N} neurons")
    return rule


def gibbs_density(W, h, sigma, grid_1d=None, *, r_lo=R_MIN, fi=None, convention="sde",
                  **grid_kw):
    """The normalised density ``p(r|s) = exp(-E/T)/Z`` on a tensor grid.

    Parameters
    ----------
    W : (N, N) symmetric recurrent weights.
    h : (N,) total external drive ``C s + b``.
    sigma : noise amplitude of Eq. 2.
    convention : ``"sde"`` (default, ``T = sigma^2 / 2``: the stationary law
        of Eq. 2 with standard Brownian motion, i.e. of the simulation) or
        ``"paper"`` (``T = sigma^2``, Eq. 4 as printed).
    grid_1d : None (adaptive rule, :func:`make_grid`), or a fixed rule (see
        :func:`_as_rule`: a GibbsGrid, one 1-D node array for every neuron,
        or ``N`` node arrays / ``(nodes, weights)`` pairs).
    r_lo : lower rate limit of the adaptive grid (default ``R_MIN``).
    fi : softplus parameters overriding ``SOFTPLUS_DEFAULT``.
    **grid_kw : passed to :func:`make_grid` (``n_sd``, ``points_per_sd``, ...).

    Returns
    -------
    GibbsGrid with ``density`` (normalised: ``sum(weights * density) == 1``)
    and the integration ``weights`` on the grid (also ``axes``,
    ``axis_weights``, ``points``, ``log_z``).
    """
    W, h = _check(W, h, sigma)
    p = _fi(fi)
    N = h.size
    if grid_1d is None:
        rule = make_grid(W, h, sigma, r_lo=r_lo, fi=p, convention=convention, **grid_kw)
    else:
        if grid_kw:
            raise TypeError(f"grid options {sorted(grid_kw)} given with a fixed grid")
        rule = _as_rule(grid_1d, N)
    axes = tuple(x for x, _ in rule)
    axis_w = tuple(w for _, w in rule)
    T = temperature(sigma, convention)
    E = _energy_tensor(axes, W, h, p)
    lp = -E / T
    shift = lp.max()
    un = np.exp(lp - shift)
    wts = _tensor_weights(axis_w)
    z = float((wts * un).sum())
    return GibbsGrid(axes=axes, axis_weights=axis_w, weights=wts, density=un / z,
                     log_z=shift + math.log(z), W=W, h=h, sigma=float(sigma), temperature=T,
                     convention=convention, fi=p,
                     r_lo=float(min(x[0] for x in axes)))


def _grid(W, h, sigma, grid, **kw):
    """Density on ``grid`` (a GibbsGrid, whose quadrature rule is reused, or
    any ``grid_1d`` accepted by :func:`gibbs_density`), or on the adaptive
    grid if ``grid`` is None."""
    if grid is None:
        return gibbs_density(W, h, sigma, **kw)
    if isinstance(grid, GibbsGrid):
        kw.setdefault("fi", grid.fi)
        kw.setdefault("convention", grid.convention)
    return gibbs_density(W, h, sigma, grid, fi=kw.get("fi"),
                         convention=kw.get("convention", "sde"))


def fixed_point(W, h, fi=None, r0=None):
    """Solve ``r = f(W r + h)`` (the small-noise mode) by Newton on
    ``f^-1(r) - W r - h = 0``."""
    p = _fi(fi)
    W = np.atleast_2d(np.asarray(W, dtype=float))
    h = np.atleast_1d(np.asarray(h, dtype=float))
    r = softplus_f(h, **p) if r0 is None else np.asarray(r0, dtype=float)
    for _ in range(20):  # damped fixed-point warm-up
        r = 0.5 * r + 0.5 * softplus_f(W @ r + h, **p)
    sol = optimize.root(lambda x: softplus_finv(np.abs(x) + 1e-300, **p) - W @ np.abs(x) - h,
                        r, method="hybr", options=dict(xtol=1e-14))
    return np.abs(sol.x)


# ---------------------------------------------------------------------------
# Expectations, objective, rule, finite differences
# ---------------------------------------------------------------------------

def mse_reward(y, target):
    """Estimation reward ``alpha = -||target - y||^2`` (last axis of ``y``)."""
    return -np.sum((np.asarray(target, dtype=float) - y) ** 2, axis=-1)


def classification_reward(y, target):
    """Classification reward: ``psi = clip(sigmoid(100 y), 1e-4, 1 - 1e-4)``,
    ``alpha = c log psi + (1 - c) log(1 - psi)`` with class ``c = target``
    (0 or 1); ``y`` has a last axis of length 1."""
    y = np.asarray(y, dtype=float)[..., 0]
    psi = np.clip(special.expit(100.0 * y), 1e-4, 1.0 - 1e-4)
    c = float(target)
    return c * np.log(psi) + (1.0 - c) * np.log1p(-psi)


REWARDS = {"mse": mse_reward, "estimation": mse_reward,
           "classification": classification_reward, "ll": classification_reward}


def _reward(reward):
    if callable(reward):
        return reward
    try:
        return REWARDS[reward]
    except KeyError:
        raise ValueError(f"unknown reward {reward!r}; expected a callable or one of {sorted(REWARDS)}")


def expectation(fun, W, h, sigma, grid=None, **kw):
    """``E[fun(r)]`` under ``p(r|s)``; ``fun`` maps points ``(..., N)`` to
    ``(...)`` or ``(..., k)``."""
    G = _grid(W, h, sigma, grid, **kw)
    return G.expect(fun(G.points))


def _alpha(G, D, target, reward):
    D = np.atleast_2d(np.asarray(D, dtype=float))
    y = G.points @ D.T
    return _reward(reward)(y, target)


def expected_objective(W, h, D, target, sigma, reward, grid=None, **kw):
    """``O = E[alpha(D r, target)]`` under ``p(r|s)`` (one stimulus, no
    regulariser). ``reward`` is a callable ``reward(y, target)`` or one of
    ``"mse"``, ``"classification"``."""
    G = _grid(W, h, sigma, grid, **kw)
    return float(G.expect(_alpha(G, D, target, reward)))


def _parse_which(which, N, s):
    kind = which[0]
    if kind == "W":
        _, i, j = which
        if not (0 <= i < N and 0 <= j < N):
            raise ValueError(f"W index {(i, j)} out of range for N = {N}")
        return kind, int(i), int(j)
    if kind == "C":
        _, i, k = which
        if s is None:
            raise ValueError("a C entry needs the input vector s")
        s = np.atleast_1d(np.asarray(s, dtype=float))
        return kind, int(i), int(k)
    if kind == "b":
        return kind, int(which[1]), None
    raise ValueError(f"which must be ('W', i, j), ('C', i, k) or ('b', i), got {which!r}")


def _x(G, which, s):
    kind, i, j = which
    r = G.points
    if kind == "W":
        return r[..., i] * r[..., j]
    if kind == "C":
        return r[..., i] * float(np.atleast_1d(s)[j])
    return r[..., i]


def rule_expectation(W, h, D, target, sigma, reward, which, s=None, grid=None,
                     rule_sigma=None, **kw):
    """``E[alpha (x - <x>)] / T`` under ``p(r|s)``, ``T = temperature(sigma,
    convention)`` (``sigma^2 / 2`` by default, ``sigma^2`` with
    ``convention="paper"``, which is the paper's ``/ sigma^2``).

    ``which`` is ``('W', i, j)`` (``x = r_i r_j``), ``('C', i, k)`` (``x =
    r_i s_k``, needs ``s``) or ``('b', i)`` (``x = r_i``). ``<x>`` is the exact
    conditional mean. ``rule_sigma`` replaces ``sigma`` in the prefactor
    only (for negative controls). This is ``dO/dtheta`` for a tied symmetric
    pair, a C entry and a b entry, and *twice* ``dO/dw_ii`` for a diagonal
    entry (module docstring).
    """
    G = _grid(W, h, sigma, grid, **kw)
    N = G.ndim
    which = _parse_which(which, N, s)
    alpha = _alpha(G, D, target, reward)
    x = _x(G, which, s)
    cov = G.expect(alpha * (x - G.expect(x)))
    T = G.temperature if rule_sigma is None else temperature(rule_sigma, G.convention)
    return float(cov) / T


def gradient_factor(which):
    """``dO/dtheta = gradient_factor(which) * rule_expectation(...)``: 1/2 for a
    diagonal ``W`` entry, 1 otherwise (pair, C entry, b entry)."""
    return 0.5 if (which[0] == "W" and which[1] == which[2]) else 1.0


def analytic_gradient(W, h, D, target, sigma, reward, which, s=None, grid=None, **kw):
    """Exact ``dO/dtheta`` for the parameter of :func:`fd_gradient`."""
    return gradient_factor(which) * rule_expectation(W, h, D, target, sigma, reward, which,
                                                     s=s, grid=grid, **kw)


def _perturbed(W, h, which, eps, s):
    W = np.array(W, dtype=float)
    h = np.array(h, dtype=float)
    kind, i, j = which
    if kind == "W":
        W[i, j] += eps
        if i != j:
            W[j, i] += eps
    elif kind == "C":
        h[i] += eps * float(np.atleast_1d(s)[j])
    else:
        h[i] += eps
    return W, h


def fd_gradient(W, h, D, target, sigma, reward, which, s=None, eps=1e-4, grid=None, **kw):
    """Central finite difference of :func:`expected_objective`.

    * ``('W', i, j)``, ``i != j``: both ``w_ij`` and ``w_ji`` move by ``eps``
      (the tied symmetric pair); equals ``rule_expectation``.
    * ``('W', i, i)``: the diagonal entry moves by ``eps``; equals
      ``rule_expectation / 2``.
    * ``('C', i, k)``: ``c_ik`` moves by ``eps``, i.e. ``h_i += eps s_k``;
      equals ``rule_expectation``.
    * ``('b', i)``: ``h_i += eps``; equals ``rule_expectation``.

    The grid is built once at the unperturbed parameters and reused for
    both evaluations, so the derivative is that of a fixed quadrature rule.
    """
    W0, h0 = _check(W, h, sigma)
    which_p = _parse_which(which, h0.size, s)
    G = _grid(W0, h0, sigma, grid, **kw)
    vals = []
    for e in (eps, -eps):
        Wp, hp = _perturbed(W0, h0, which_p, e, s)
        vals.append(expected_objective(Wp, hp, D, target, sigma, reward, grid=G))
    return (vals[0] - vals[1]) / (2.0 * eps)


def expected_updates(W, h, D, target, sigma, reward, s=None, grid=None, **kw):
    """Expected (unscaled) updates of the library rules, ``E[alpha (x - <x>)]``,
    for every entry: dict with ``"W"`` (N x N), ``"b"`` (N) and, if ``s`` is
    given, ``"C"`` (N x N_s). Multiply by ``dt * 100 * eta`` for the expected
    per-step change (regulariser not included)."""
    G = _grid(W, h, sigma, grid, **kw)
    alpha = _alpha(G, D, target, reward)
    a0 = alpha - G.expect(alpha)
    r = G.points
    rr = r[..., :, None] * r[..., None, :]
    out = {"W": G.expect(a0[..., None, None] * rr), "b": G.expect(a0[..., None] * r)}
    if s is not None:
        out["C"] = np.outer(out["b"], np.atleast_1d(np.asarray(s, dtype=float)))
    return out


# ---------------------------------------------------------------------------
# Exact samples and goodness of fit
# ---------------------------------------------------------------------------

def sample_exact(W, h, sigma, n, rng, grid=None, safety=1.05, **kw):
    """``n`` independent exact draws from the Gibbs density, shape ``(n, N)``.

    Rejection sampling with a piecewise-constant envelope on the grid cells
    (``safety`` times the largest corner density of each cell); the exact
    unnormalised density is evaluated at each proposal, so the draws are
    exact as long as the envelope holds, which is checked (RuntimeError if a
    proposal exceeds it). Mass outside the grid box (< e^-72 relative) is
    ignored.
    """
    G = _grid(W, h, sigma, grid, **kw)
    N = G.ndim
    d = G.density
    env = d
    for ax in range(N):  # max over the 2^N corners of each cell
        sl_a = [slice(None)] * N
        sl_b = [slice(None)] * N
        sl_a[ax] = slice(0, -1)
        sl_b[ax] = slice(1, None)
        env = np.maximum(env[tuple(sl_a)], env[tuple(sl_b)])
    env = env * safety
    widths = [np.diff(x) for x in G.axes]
    vol = widths[0]
    for wd in widths[1:]:
        vol = np.multiply.outer(vol, wd)
    cell_mass = (env * vol).ravel()
    cdf = np.cumsum(cell_mass)
    cdf /= cdf[-1]
    env_flat = env.ravel()
    out = []
    have = 0
    while have < n:
        m = int(1.3 * (n - have)) + 100
        c = np.minimum(np.searchsorted(cdf, rng.random(m), side="right"), cdf.size - 1)
        idx = np.unravel_index(c, env.shape)
        pts = np.empty((m, N))
        for i in range(N):
            pts[:, i] = G.axes[i][idx[i]] + rng.random(m) * widths[i][idx[i]]
        dens = G.pdf(pts)
        if np.any(dens > env_flat[c]):
            raise RuntimeError("rejection envelope violated; refine the grid or raise `safety`")
        acc = rng.random(m) * env_flat[c] < dens
        out.append(pts[acc])
        have += int(acc.sum())
    return np.concatenate(out)[:n]


class GofResult(float):
    """A goodness-of-fit p-value (behaves as a float) with details:
    ``pvalue``, ``statistic``, ``dof`` (chi-square only), ``n`` (samples
    used), ``alpha`` and ``passed = pvalue >= alpha``."""

    def __new__(cls, pvalue, statistic, n, alpha, dof=None):
        obj = super().__new__(cls, pvalue)
        obj.pvalue = float(pvalue)
        obj.statistic = float(statistic)
        obj.n = int(n)
        obj.alpha = float(alpha)
        obj.dof = dof
        obj.passed = bool(pvalue >= alpha)
        return obj

    def __repr__(self):
        extra = f", dof={self.dof}" if self.dof is not None else ""
        return (f"GofResult(pvalue={self.pvalue:.4g}, statistic={self.statistic:.4g}, "
                f"n={self.n}{extra}, passed={self.passed})")


def gibbs_cdf(W, h, sigma, grid=None, n_gauss=6, **kw):
    """For N = 1: the CDF of the Gibbs density as a vectorised callable.

    The probability of each grid interval is integrated with an
    ``n_gauss``-point Gauss-Legendre rule on the exact density, and inside
    an interval the CDF is completed by the same rule on ``[x_k, v]``, so it
    is accurate to ~1e-12 (not just linear interpolation).
    """
    G = _grid(W, h, sigma, grid, **kw)
    if G.ndim != 1:
        raise ValueError("gibbs_cdf is for N = 1")
    x = G.axes[0]
    t, wt = np.polynomial.legendre.leggauss(n_gauss)
    t, wt = (t + 1.0) / 2.0, wt / 2.0

    def pdf1(v):
        return G.pdf(np.asarray(v, dtype=float)[..., None])

    dx = np.diff(x)
    cells = (pdf1(x[:-1, None] + dx[:, None] * t) * wt).sum(axis=1) * dx
    c = np.concatenate([[0.0], np.cumsum(cells)])
    total = c[-1]

    def cdf(v):
        v = np.clip(np.asarray(v, dtype=float), x[0], x[-1])
        k = np.clip(np.searchsorted(x, v, side="right") - 1, 0, x.size - 2)
        d = v - x[k]
        part = (pdf1(x[k][..., None] + d[..., None] * t) * wt).sum(axis=-1) * d
        return np.clip((c[k] + part) / total, 0.0, 1.0)

    return cdf


def sample_gof(samples_1d, W, h, sigma, alpha=0.001, condition_above=None, grid=None, **kw):
    """Kolmogorov-Smirnov test of N = 1 samples against the quadrature CDF.

    ``samples_1d`` must be (approximately) independent draws: thin simulated
    trajectories first (module docstring). If ``condition_above`` is given,
    only samples ``> condition_above`` are tested, against the conditional
    law on ``(condition_above, inf)`` (removes the clipping atom at
    ``r_min``). Returns a :class:`GofResult` (a float equal to the p-value;
    ``.passed`` is ``pvalue >= alpha``).
    """
    x = np.asarray(samples_1d, dtype=float).ravel()
    W = np.atleast_2d(np.asarray(W, dtype=float))
    if W.shape != (1, 1):
        raise ValueError("sample_gof is for N = 1; use sample_gof_2d for N = 2")
    cdf = gibbs_cdf(W, h, sigma, grid=grid, **kw)
    if condition_above is not None:
        t = float(condition_above)
        x = x[x > t]
        c_t = float(cdf(t))
        base = cdf
        cdf = lambda v: np.clip((base(v) - c_t) / (1.0 - c_t), 0.0, 1.0)  # noqa: E731
    if x.size < 2:
        raise ValueError("need at least 2 samples")
    res = stats.kstest(x, cdf)
    return GofResult(res.pvalue, res.statistic, x.size, alpha)


def sample_gof_2d(samples_2d, W, h, sigma, alpha=0.001, bins=8, min_expected=5.0,
                  condition_above=None, grid=None, **kw):
    """Chi-square test of N = 2 samples against quadrature bin probabilities.

    Bins: ``bins x bins`` cells whose edges are the ``j / bins`` quantiles of
    the two quadrature marginals (or explicit edge arrays if ``bins`` is a
    pair of arrays of inner edges); the outer cells are open. Bin
    probabilities come from the 2-D cumulative integral of the density on the
    quadrature grid, interpolated bilinearly at the edges. Cells with an
    expected count below ``min_expected`` are pooled into one cell (merged
    into the smallest remaining cell if the pool is still too small).
    ``condition_above`` drops samples with any coordinate ``<= t`` and tests
    the law conditioned on both coordinates ``> t``. Samples must be
    (approximately) independent (thin simulated trajectories first).
    Returns a :class:`GofResult` with ``dof = cells - 1``.
    """
    x = np.asarray(samples_2d, dtype=float)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"samples_2d must have shape (n, 2), got {x.shape}")
    G = _grid(W, h, sigma, grid, **kw)
    if G.ndim != 2:
        raise ValueError("sample_gof_2d is for N = 2")
    ax0, ax1 = G.axes
    # 2-D CDF on the grid nodes
    c = integrate.cumulative_trapezoid(G.density, ax0, axis=0, initial=0.0)
    c = integrate.cumulative_trapezoid(c, ax1, axis=1, initial=0.0)
    c /= c[-1, -1]
    interp = _bilinear(ax0, ax1, c)
    lo = [ax0[0], ax1[0]]
    if condition_above is not None:
        t = float(condition_above)
        x = x[np.all(x > t, axis=1)]
        lo = [max(t, ax0[0]), max(t, ax1[0])]
    hi = [ax0[-1], ax1[-1]]
    if np.ndim(bins) == 0:
        inner = []
        for i, ax in enumerate((ax0, ax1)):
            marg = c[:, -1] if i == 0 else c[-1, :]
            # marginal CDF restricted to the conditioning region
            m_lo = np.interp(lo[i], ax, marg)
            q = m_lo + (marg[-1] - m_lo) * np.arange(1, int(bins)) / int(bins)
            inner.append(np.interp(q, marg, ax))
    else:
        inner = [np.sort(np.asarray(b, dtype=float)) for b in bins]
    e0 = np.concatenate([[lo[0]], inner[0], [hi[0]]])
    e1 = np.concatenate([[lo[1]], inner[1], [hi[1]]])
    C = interp(e0[:, None], e1[None, :])
    probs = C[1:, 1:] - C[:-1, 1:] - C[1:, :-1] + C[:-1, :-1]
    probs = np.maximum(probs, 0.0).ravel()
    probs /= probs.sum()
    i0 = np.searchsorted(inner[0], x[:, 0], side="right")
    i1 = np.searchsorted(inner[1], x[:, 1], side="right")
    obs = np.bincount(i0 * (len(inner[1]) + 1) + i1, minlength=probs.size).astype(float)
    n = obs.sum()
    if n < 2:
        raise ValueError("need at least 2 samples")
    exp_ = n * probs
    small = exp_ < min_expected
    o = list(obs[~small])
    e = list(exp_[~small])
    if small.any():
        po, pe = obs[small].sum(), exp_[small].sum()
        if pe >= min_expected or not e:
            o.append(po)
            e.append(pe)
        else:
            k = int(np.argmin(e))
            o[k] += po
            e[k] += pe
    o, e = np.array(o), np.array(e)
    if o.size < 2:
        raise ValueError("too few populated cells for a chi-square test")
    stat = float(((o - e) ** 2 / e).sum())
    dof = o.size - 1
    return GofResult(stats.chi2.sf(stat, dof), stat, n, alpha, dof=dof)


def _bilinear(x, y, z):
    """Bilinear interpolant of ``z[i, j]`` on the (uniform or not) grid
    ``x[i], y[j]``, clamped outside."""
    def f(u, v):
        u, v = np.broadcast_arrays(np.asarray(u, dtype=float), np.asarray(v, dtype=float))
        u = np.clip(u, x[0], x[-1])
        v = np.clip(v, y[0], y[-1])
        i = np.clip(np.searchsorted(x, u, side="right") - 1, 0, x.size - 2)
        j = np.clip(np.searchsorted(y, v, side="right") - 1, 0, y.size - 2)
        tu = (u - x[i]) / (x[i + 1] - x[i])
        tv = (v - y[j]) / (y[j + 1] - y[j])
        return ((1 - tu) * (1 - tv) * z[i, j] + tu * (1 - tv) * z[i + 1, j]
                + (1 - tu) * tv * z[i, j + 1] + tu * tv * z[i + 1, j + 1])
    return f
