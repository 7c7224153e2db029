"""The recurrent population of the paper's Eq. 2.

    dr_i = [-f^-1(r_i) + sum_j W_ij r_j + sum_k C_ik s_k + b_i] dt + sigma dB_i

in time units, integrated by Euler-Maruyama and clipped to ``[r_min, r_max]``
after every step (keeps ``f^-1(r)`` finite). The recurrent and input
currents ``I_rec`` and ``I_in`` are summed variables written by the ``W``
and ``C`` synapses (:mod:`brian_effplast.blocks.plasticity`); the update consumes
``I_rec`` (sets it to 0), so that the ``W`` rule can add up the next step's
recurrent input while it visits each synapse. The update keeps the total
input it used, ``h = I_rec + I_in + b`` (the paper's preactivation ``h_i``),
and ``fprime_h = f'(h)`` is a subexpression when the F-I curve has a slope
(:attr:`FICurve.fprime_expr`): what the REINFORCE rule reads.
"""

import numpy as np
from brian2 import NeuronGroup, check_units, second
from brian2.utils.stringtools import word_substitute

from .nonlinearity import Softplus, check_fi_curve, log1p_function
from ._groups import ProjectedEuler, attach, check_sizes, noise_array

__all__ = ["RecurrentPopulation"]


class RecurrentPopulation(NeuronGroup):
    """
    RecurrentPopulation(N, replicas, tau, sigma=0.2, fi_curve=None, r_min=0.001, r_max=100, r_init=0.1, noise=None, **kwds)

    ``replicas`` independent populations of ``N`` rate neurons (Eq. 2).

    Parameters
    ----------
    N : int
        Neurons per replica (``>= 1``).
    replicas : int
        Independent copies (``>= 1``); neuron ``i`` of replica ``q`` has
        index ``q*N + i`` and ``replica == q``.
    tau : `Quantity`
        The time unit (second).
    sigma : float
        Noise amplitude per square-root time unit, ``(shared, constant)``.
    fi_curve : `FICurve`, optional
        Default `Softplus()`; checked with `check_fi_curve`.
    r_min, r_max, r_init : float
        Rate bounds and initial rate.
    noise : ndarray, optional
        Standard normals of shape ``(steps, replicas*N)`` replacing ``xi``.
    n_out : int
        Decoder rows declared up front: each neuron holds its weights
        ``D_0 ... D_{n_out-1}`` (`Decoder` adds them when missing, and
        `NeuronRules` adds the state it needs, so neither is required).
    kwds
        Passed to `NeuronGroup`.

    Notes
    -----
    Variables besides the rates ``r``: ``I_rec``, ``I_in`` (the currents),
    ``b`` (bias), ``h`` (the total input ``I_rec + I_in + b`` of the last
    step, kept by the update since ``I_rec`` is consumed), ``fprime_h``
    (``f'(h)``, a subexpression, when ``fi_curve.fprime_expr`` is set),
    ``sigma``, ``replica`` and ``D_0 ... D_{n_out-1}``.
    """

    @check_units(tau=second)
    def __init__(self, N, replicas, tau, sigma=0.2, fi_curve=None, r_min=0.001, r_max=100.0,
                 r_init=0.1, noise=None, n_out=0, name="population*", **kwds):
        N, replicas = check_sizes(N, replicas)
        if not (np.isfinite(sigma) and sigma >= 0):
            raise ValueError(f"sigma = {sigma!r} is not allowed: must be a finite number >= 0")
        if not (0 < r_min < r_max and np.isfinite(r_max)):
            raise ValueError(f"rate bounds [{r_min!r}, {r_max!r}] are not allowed: need 0 < r_min < r_max < inf")
        fi_curve = Softplus() if fi_curve is None else fi_curve
        check_fi_curve(fi_curve, r_min, r_max)
        namespace = dict(kwds.pop("namespace", {}))
        namespace.update(fi_curve.namespace, tau=tau, r_min=r_min, r_max=r_max, fi_log1p=log1p_function())
        if noise is None:
            kick = "sigma*xi*tau**-0.5"
        else:
            kick = "sigma*z_rate(t, i)/sqrt(tau*dt)"
            namespace["z_rate"] = noise_array(noise, N * replicas, kwds.get("clock"), "rate noise",
                                              name=name.rstrip("*") + "_noise" + ("*" if name.endswith("*") else ""))
        eqs = f"""
        dr/dt = (-({fi_curve.finv_expr}) + I_rec + I_in + b)/tau + {kick} : 1
        I_rec : 1
        I_in : 1
        b : 1
        h : 1
        sigma : 1 (shared, constant)
        replica : integer (constant)
        """
        if fi_curve.fprime_expr is not None:
            eqs += f"fprime_h = {word_substitute(fi_curve.fprime_expr, {'x': 'h'})} : 1\n"
        eqs += "".join(f"D_{k} : 1\n" for k in range(n_out))
        # Euler-Maruyama, then the clip, in one state update; the input of the step is kept
        # as h, and I_rec is consumed (reset) so that synapses may accumulate the next
        # step's input into it
        super().__init__(N * replicas, eqs,
                         method=ProjectedEuler("h = I_rec + I_in + b\nr = clip(r, r_min, r_max)\nI_rec = 0"),
                         namespace=namespace, name=name, **kwds)
        attach(self, N_per_replica=N, replicas=replicas, n_out=int(n_out), fi_curve=fi_curve, r_min=r_min, r_max=r_max)
        self.sigma = sigma
        self.r = r_init
        self.replica = np.repeat(np.arange(replicas), N)
