"""What plots and figure panels ask of a Task (instead of its name): the
objective's key and axis scale, class boundaries, the decision threshold;
and the plot functions taking a task name or a Task, a user's task included."""

import numpy as np
import pytest

from brian_effplast import plotting
from brian_effplast.blocks.prior import test_angles
from brian_effplast.blocks.tasks import TASKS, Classification, Estimation, Task, get_task


def test_plot_attributes_of_the_built_in_tasks():
    e, c = get_task("estimation"), get_task("classification")
    assert (e.objective_name, e.log_scale_curve, e.class_boundaries, e.decision_threshold) == ("mse", True, (), None)
    assert (c.objective_name, c.log_scale_curve, c.decision_threshold) == ("log_likelihood", False, 0.0)
    assert np.allclose(c.class_boundaries, [0.0, np.pi])
    base = Task()
    assert (base.objective_name, base.log_scale_curve, base.class_boundaries, base.decision_threshold) == \
        ("reward", False, (), None)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_objective_name_is_the_label_as_a_key(name):
    task = get_task(name)
    assert task.objective_name == task.objective_label.lower().replace("-", "_")


def test_class_boundaries_and_threshold_agree_with_target_and_test_error():
    task = Classification(gain=50.0)
    eps = 1e-6
    for b in task.class_boundaries:  # the class changes across every boundary
        below, above = (np.array([b - eps, b + eps]) + np.pi) % (2 * np.pi) - np.pi
        assert task.target(below) != task.target(above)
    theta = test_angles(12)
    cls = task.target(theta)
    y = np.where(cls == 1, task.decision_threshold + 0.01, task.decision_threshold - 0.01)[:, None]
    assert np.all(task.test_error(y, theta) == 0.0)
    assert np.all(task.test_error(-y, theta) == 1.0)


class OneOutput(Task):
    """A user's one-output task without classes: y tracks sin(theta)."""

    name = "sine"
    n_out = 1
    code = "delta_0 = sin(theta) - y_0\nalpha = -delta_0**2"
    delta_scale = 0.5

    def target(self, theta):
        return np.sin(np.asarray(theta, dtype=float))[..., None]

    def reward(self, y, theta):
        return -np.sum((self.target(theta) - y) ** 2, axis=-1)

    def delta(self, y, theta):
        return self.target(theta) - y


def _test_data(n_out, R=2, K=4, S=6, N=3, seed=0):
    g = np.random.default_rng(seed)
    return {"angles": test_angles(K), "rates": g.uniform(0.1, 1.0, (R, K, S, N)),
            "outputs": g.normal(0, 0.1, (R, K, S, n_out)), "prior_mu": np.float64(0.0),
            "prior_kappa": np.float64(1.5)}


@pytest.mark.parametrize("task", ["estimation", Estimation(), "classification", Classification(gain=30.0),
                                  OneOutput()])
def test_run_plots_take_a_name_or_a_task(task):
    t = get_task(task)
    d = _test_data(t.n_out)
    fig = plotting.output_distributions(d, task)
    assert len(fig.axes) == (2 if t.n_out == 2 else 4)  # two outputs: the axis and its colour key of angles
    if t.n_out == 1:  # the decision threshold is drawn only for a task with classes
        lines = [ln for ax in fig.axes for ln in ax.get_lines()]
        assert bool(lines) == (t.decision_threshold is not None)
    curve = -np.abs(np.random.default_rng(1).normal(1.0, 0.1, (2, 100)))
    fig = plotting.learning_curve(curve, 10.0, task, transient=40.0)
    ax = fig.axes[0]
    assert ax.get_ylabel() == t.objective_label
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(),
                               plotting.objective_curve(curve, 10.0, t)[1])


def test_log_scale_only_for_a_log_scale_task_spanning_a_decade():
    curve = -np.geomspace(100.0, 0.1, 200)[None]  # reward: the MSE falls over three decades
    assert plotting.learning_curve(curve, 1.0, "estimation").axes[0].get_yscale() == "log"
    assert plotting.learning_curve(curve, 1.0, Task()).axes[0].get_yscale() == "linear"


@pytest.mark.parametrize("task", ["estimation", "classification"])
def test_panel_drawings_of_one_test_take_the_task_from_the_data_or_an_argument(task):
    d = _test_data(get_task(task).n_out)
    d["task"] = np.str_(task)
    n_boundary = {"estimation": 0, "classification": 3}[task]  # classification: at 0, -180 and 180
    for fig in (plotting.draw_preferred_stimuli(d, "t"), plotting.draw_preferred_stimuli(d, "t", get_task(task))):
        dashed = [ln for ln in fig.axes[0].get_lines() if ln.get_linestyle() == "--"]
        assert len(dashed) == n_boundary
    plotting.draw_population_rates([("a", d)], "t")
    plotting.draw_tuning_map(d, "t", task)
    if task == "estimation":
        plotting.draw_bias_variance(d)


def test_the_built_in_task_names_are_the_configuration_s():
    from brian_effplast.blocks import tasks
    from brian_effplast.config import schema
    assert tuple(tasks.TASKS) == schema.TASKS


def test_a_task_defining_only_reward_and_delta_gets_the_default_objective_error_and_score():
    class Distance(Task):  # a user's one-output task: y should be cos(theta)
        n_out = 1

        def reward(self, y, theta):
            return -(y[..., 0] - np.cos(theta)) ** 2

        def delta(self, y, theta):
            return 2 * (np.cos(theta) - y[..., 0])[..., None]

    task = Distance()
    y, theta = np.array([[0.5], [1.0]]), np.array([0.0, np.pi])
    np.testing.assert_allclose(task.test_error(y, theta), [0.25, 4.0])  # minus the reward
    np.testing.assert_allclose(task.objective(task.reward(y, theta)), [-0.25, -4.0])  # the reward itself
    assert task.score(0.25) == 0.25
    with pytest.raises(NotImplementedError):  # the base class has no target, reward or delta
        Task().target(theta)
    for method in (Task().reward, Task().delta):
        with pytest.raises(NotImplementedError):
            method(y, theta)


def test_classification_test_loss_is_the_nll_of_the_true_class():
    """The authors' per-angle error: -log psi (class 1), -log(1 - psi) (class 0), psi clipped
    as the reward clips it; theta = -pi is class 1 (their convention)."""
    task = Classification(gain=100.0, eps=1e-4)
    theta = np.array([-np.pi, -2.0, -0.5, 0.0, 0.5, 2.0, np.pi - 1e-3])
    y = np.array([-0.01, 0.02, -0.003, 0.004, -0.2, 0.5, 0.0])[:, None]
    psi = np.clip(1 / (1 + np.exp(-100 * y[:, 0])), 1e-4, 1 - 1e-4)
    c = np.array([1, 0, 0, 1, 1, 1, 1])
    expect = np.where(c == 1, -np.log(psi), -np.log(1 - psi))
    np.testing.assert_allclose(task.test_loss(y, theta), expect, rtol=1e-12)
    # away from -pi it is the negative reward; the 0/1 test_error is unchanged
    np.testing.assert_allclose(task.test_loss(y[1:], theta[1:]), -task.reward(y[1:], theta[1:]), rtol=1e-12)
    assert task.test_error(y, theta)[0] == 0.0  # the run's scores keep theta >= 0 as class 1
    est = Estimation()
    np.testing.assert_allclose(est.test_loss(y @ [[1.0, 0.5]], theta), est.test_error(y @ [[1.0, 0.5]], theta))


def test_figures_display_inline_in_jupyter():
    """A figure of plotting is built without pyplot: IPython's PNG formatter still renders it."""
    from IPython.core.formatters import PNGFormatter
    png = PNGFormatter()(plotting.learning_curve(-np.ones((2, 10)), 1.0, "estimation"))
    assert png is not None and png[:8] == b"\x89PNG\r\n\x1a\n"
