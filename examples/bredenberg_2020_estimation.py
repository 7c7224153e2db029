#!/usr/bin/env python
"""
Learning to estimate a slowly drifting angle with reward-gated Hebbian plasticity.

A stochastic recurrent rate circuit (Eq. 2 of the paper) receives a stimulus angle theta
through 12 cosine-tuned inputs and learns, from a scalar reward alone, to report
(cos theta, sin theta) through a linear decoder. Recurrent weights W, input weights C and
biases b learn with the three-factor rule of Eq. 10 (reward times Hebbian fluctuation minus
L2 decay); the decoder D with a delta rule. The stimulus follows a Langevin process whose
stationary law (the prior) is von Mises of mean 0 and concentration 1.5. Parameters are the
authors' (time unit tau = 10 ms, dt = 0.1 ms).

The circuit is built from Brian2 groups: the stimulus, inputs and population are blocks of
brian_effplast (NeuronGroups), the reward is a plain NeuronGroup computing it in Brian2 code,
and the rule is ThreeFactorSynapses (W, C), NeuronRules (b, D) and a Decoder.

Usage: python bredenberg_2020_estimation.py [--duration SECONDS] [--target numpy|cython|cpp_standalone]
(default 200 s of model time on cpp_standalone: a few minutes, compilation included). Saves
bredenberg_2020_estimation.png and prints the squared error of the first and last 10% of training.

Bredenberg, C., Simoncelli, E. P. & Savin, C. (2020). Learning efficient task-dependent
representations with synaptic plasticity. Advances in Neural Information Processing Systems 33.
"""
import argparse

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from brian2 import (NeuronGroup, Network, StateMonitor, linked_var, ms, prefs, second, seed,
                    set_device)

from brian_effplast import Decoder, NeuronRules, ThreeFactorSynapses
from brian_effplast.blocks.population import RecurrentPopulation
from brian_effplast.blocks.stimulus import InputPopulation, LangevinStimulus

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--duration", type=float, default=200.0, help="training, seconds of model time")
parser.add_argument("--target", default="cpp_standalone", choices=["numpy", "cython", "cpp_standalone"])
parser.add_argument("--out", default="bredenberg_2020_estimation.png", help="the figure's file")
args = parser.parse_args()
if args.target == "cpp_standalone":
    set_device("cpp_standalone", build_on_run=True)
else:
    prefs.codegen.target = args.target
seed(1)
rng = np.random.default_rng(1)

# Parameters (the authors'; rates in 1/second are the paper's eta as 100*eta/tau)
tau = 10 * ms                      # the time unit
N, N_s, sigma = 40, 12, 0.2        # neurons, inputs, intrinsic noise
mu, kappa, sigma_s = 0.0, 0.75, 0.06   # stimulus process: prior von Mises(mu, 2*kappa)
eta = 100 * 5e-6 / tau             # every learning rate
tau_bar = 6.667 * tau              # low-pass averages of the rule
transient = 40 * tau               # plasticity off at first (the averages settle)
defaultclock_dt = 0.01 * tau

# The circuit: stimulus, inputs, recurrent population (each on one clock of dt = 0.1 ms)
stimulus = LangevinStimulus(1, mu, kappa, sigma_s, tau, dt=defaultclock_dt, order=0, name="stimulus")
stimulus.theta = rng.vonmises(mu, 2 * kappa)
inputs = InputPopulation(stimulus, N_s, order=1, name="inputs")
population = RecurrentPopulation(N, 1, tau, sigma=sigma, dt=defaultclock_dt, order=3, name="population")

# The reward: alpha = -||(cos theta, sin theta) - y||^2 (Eq. 6), the decoder's errors delta, and
# a gate that holds learning off during the transient
critic = NeuronGroup(1, """
    theta : 1 (linked)
    y_0 : 1 (linked)
    y_1 : 1 (linked)
    delta_0 : 1
    delta_1 : 1
    alpha : 1
    alpha_acc : 1
    learn : 1
    """, dt=defaultclock_dt, order=5, name="critic")
critic.theta = linked_var(stimulus, "theta")
critic.run_regularly("""
    delta_0 = cos(theta) - y_0
    delta_1 = sin(theta) - y_1
    alpha = -(delta_0**2 + delta_1**2)
    alpha_acc += alpha
    learn = int(t >= transient)
    """, when="groups", order=5, name="reward_code")

# The rule: W and C (Eq. 10), b and the decoder D (NeuronRules), all gated by critic.learn
rule = dict(reward=(critic, "alpha"), gate=(critic, "learn"), tau_bar=tau_bar)
W = ThreeFactorSynapses(population, population, pre="r", post="r", eta=eta, lam=8e-4, weight="W",
                        current="I_rec", accumulate=True, order=7, name="W_synapses", **rule)
W.connect()
W.W = rng.uniform(-0.3, 0.3, N * N) / np.sqrt(N)
C = ThreeFactorSynapses(inputs, population, pre="s", post="r", eta=eta, lam=4.8e-3, weight="C",
                        current="I_in", order=7, name="C_synapses", **rule)
C.connect()
C.C = rng.uniform(-0.5, 0.5, N_s * N) / np.sqrt(N_s)
decoder = Decoder(population, 2, activity="r", readout=critic, order=4, name="decoder")
population.D_0 = rng.uniform(-1, 1, N) / N
population.D_1 = rng.uniform(-1, 1, N) / N
rules = NeuronRules(population, activity="r", bias="b", eta_bias=eta, lam_bias=4.8e-3, decoder=decoder,
                    delta=(critic, "delta"), eta_decoder=eta, lam_decoder=8e-4, order=6, name="neuron_rules",
                    **rule)
for group, order in ((C, 2), (decoder, 4)):  # the summed currents before the population, y after it
    for updater in group.summed_updaters.values():
        updater.order = order

# Monitors: the summed reward every second (the learning curve), theta and y every 50 ms
curve = StateMonitor(critic, "alpha_acc", record=0, dt=1 * second, when="start", name="curve")
trace = StateMonitor(critic, ["theta", "y_0", "y_1"], record=0, dt=50 * ms, name="trace")
net = Network(stimulus, inputs, population, critic, W, C, decoder, rules, curve, trace)
net.run(args.duration * second, namespace={"transient": transient})

# Squared error per second of training (the summed reward's increments)
acc = np.append(curve.alpha_acc[0], critic.alpha_acc[0])
mse = -np.diff(acc) / (1 * second / defaultclock_dt)
first, last = mse[: max(1, len(mse) // 10)].mean(), mse[-max(1, len(mse) // 10):].mean()
print(f"squared error: first 10% of training {first:.3f} -> last 10% {last:.3f} "
      f"(a constant output does at best 0.645; y = 0 gives 1)")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
ax1.plot(np.arange(len(mse)) + 0.5, mse, color="C0", label="squared error, mean per second")
ax1.axhline(0.645, color="0.4", ls="--", lw=1, label="best constant output (the prior's mean)")
ax1.axvline(transient / second, color="0.6", ls=":", lw=1, label="plasticity on")
ax1.set_xlabel("training time (s)")
ax1.set_ylabel("squared error ||(cos θ, sin θ) - y||²")
ax1.set_title("Learning curve", fontsize=10)
ax1.legend(fontsize=8)
last_s = trace.t / second >= args.duration - min(20.0, args.duration / 2)  # the last 20 s
t = trace.t[last_s] / second
ax2.plot(t, np.degrees(trace.theta[0][last_s]), color="k", lw=1.5, label="stimulus θ")
ax2.plot(t, np.degrees(np.arctan2(trace.y_1[0][last_s], trace.y_0[0][last_s])), ".", ms=3, color="C1",
         label="decoded angle of y")
ax2.set_xlabel("training time (s)")
ax2.set_ylabel("angle (degrees)")
ax2.set_ylim(-180, 180)
ax2.set_title("The end of training: stimulus and estimate", fontsize=10)
ax2.legend(fontsize=8)
fig.savefig(args.out, dpi=120)
print(f"figure: {args.out}")
