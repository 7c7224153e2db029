"""Tests of brian_effplast.config: defaults, TOML round trip, validation."""

import dataclasses
import math

import pytest

from brian_effplast.config import (
    SECTIONS,
    Config,
    ConfigError,
    TestParams,
)

# --------------------------------------------------------------------------
# Defaults = the authors' published parameter values, written out here independently
# --------------------------------------------------------------------------

SHARED = {
    "circuit.dt": 0.01,
    "circuit.sigma": 0.2,
    "circuit.N_s": 12,
    "circuit.r_min": 0.001,
    "circuit.r_max": 100.0,
    "circuit.r_init": 0.1,
    "circuit.tau_ms": 10.0,
    "circuit.neuron": "rate",
    "circuit.rate_scale": 10.0,
    "circuit.tau_r": 1.0,
    "nonlinearity.kind": "softplus",
    "nonlinearity.a": 0.0,
    "nonlinearity.beta": 1 / 30,
    "nonlinearity.g": 30.0,
    "stimulus.mu": 0.0,
    "stimulus.kappa": 0.75,
    "stimulus.sigma_s": 0.06,
    "init.W_scale": 0.3,
    "init.C_scale": 0.5,
    "init.D_scale": 1.0,
    "init.W_symmetric": False,
    "run.transient": 40.0,
    "run.seed": None,
    "run.target": "cpp_standalone",
    "run.replicas": 1,
    "run.workers": 1,
    "run.duration": 5000.0,
    "run.checkpoint_every": 0.0,
    "run.curve_bin": 1.0,
    "run.trial": 0.0,
    "run.trial_angle": "continue",
    "plasticity.lam_sigma_ref": 0.0,
    "plasticity.rule": "eq10",
    "test.protocol": "held",
    "test.angles": 12,
    "test.hold": 200.0,
    "test.record_every": None,  # omitted: the protocol's (20 steps held, 200 authors)
    "test.trials": None,  # omitted: the protocol's (1 held, 100 authors)
    "test.start": "current",
}

TASK = {
    "estimation": {
        "circuit.N": 40,
        "plasticity.eta_W": 5e-6,
        "plasticity.eta_C": 5e-6,
        "plasticity.eta_b": 5e-6,
        "plasticity.eta_D": 5e-6,
        "plasticity.lam_W": 0.5 / 625,
        "plasticity.lam_C": 3 / 625,
        "plasticity.lam_b": 3 / 625,
        "plasticity.lam_D": 8e-4,
        "init.b": 0.0,
    },
    "classification": {
        "circuit.N": 25,
        "plasticity.eta_W": 1e-6,
        "plasticity.eta_C": 1e-6,
        "plasticity.eta_b": 1e-6,
        "plasticity.eta_D": 1e-8,
        "plasticity.lam_W": 3 / 1600,
        "plasticity.lam_C": 25 / 400,
        "plasticity.lam_b": 2 / 40,
        "plasticity.lam_D": 1.875e-3,
        "init.b": 0.7,
    },
}


def get(cfg, path):
    section, key = path.split(".")
    return getattr(getattr(cfg, section), key)


@pytest.mark.parametrize("task", ["estimation", "classification"])
def test_defaults_match_reference_sheet(task):
    cfg = Config.default(task)
    assert cfg.task == task
    expected = {**SHARED, **TASK[task]}
    for path, value in expected.items():
        got = get(cfg, path)
        assert got == value, path
        assert type(got) is type(value), path
    # every field is covered by the spot checks above (plus tau_bar and tau_e below)
    all_paths = {f"{s}.{f.name}" for s, c in SECTIONS.items() for f in dataclasses.fields(c)}
    assert all_paths - set(expected) == {"plasticity.tau_bar", "plasticity.tau_e"}
    # the per-step low-pass factor is 0.0015 (time constant about 6.7 units)
    assert cfg.k_bar == pytest.approx(0.0015, rel=1e-12)
    assert cfg.plasticity.tau_bar == pytest.approx(6.6667, rel=1e-4)
    # REINFORCE's eligibility traces (not the reference's: chosen here) default to the same time constant
    assert cfg.plasticity.tau_e == cfg.plasticity.tau_bar
    assert cfg.n_out == (2 if task == "estimation" else 1)


def test_sheet_literal_values():
    # the sheet's fractions are the literal decimals it quotes
    assert TASK["estimation"]["plasticity.lam_W"] == 8e-4
    assert TASK["estimation"]["plasticity.lam_C"] == 4.8e-3
    assert TASK["classification"]["plasticity.lam_W"] == 1.875e-3
    assert TASK["classification"]["plasticity.lam_C"] == 0.0625
    assert TASK["classification"]["plasticity.lam_b"] == 0.05


def test_task_alone_selects_task_defaults():
    cfg = Config.from_dict({"task": "classification"})
    assert cfg == Config.default("classification")
    assert Config.from_dict({}) == Config.default("estimation")
    assert Config.from_toml_string('task = "classification"\n') == Config.default("classification")
    # partial sections keep the task's other defaults
    cfg = Config.from_dict({"task": "classification", "circuit": {"sigma": 0.33}})
    assert cfg.circuit.sigma == 0.33 and cfg.circuit.N == 25 and cfg.init.b == 0.7


def test_direct_construction_validates_and_defaults_to_estimation():
    assert Config() == Config.default("estimation")
    with pytest.raises(ConfigError, match="task"):
        Config(task="regression")


def test_int_accepted_for_float_and_converted():
    cfg = Config.from_dict({"circuit": {"sigma": 1, "r_max": 50}, "run": {"duration": 100}})
    assert cfg.circuit.sigma == 1.0 and type(cfg.circuit.sigma) is float
    assert type(cfg.run.duration) is float
    assert "sigma = 1.0" in cfg.to_toml_string()


# --------------------------------------------------------------------------
# TOML round trip
# --------------------------------------------------------------------------


@pytest.mark.parametrize("task", ["estimation", "classification"])
def test_toml_round_trip_defaults(task, tmp_path):
    cfg = Config.default(task)
    path = tmp_path / "model.toml"
    cfg.to_toml(path)
    back = Config.from_toml(path)
    assert back == cfg
    assert back.to_dict() == cfg.to_dict()
    assert "seed" not in [line.split("=")[0].strip() for line in path.read_text().splitlines()]
    assert back.run.seed is None


def test_toml_round_trip_exact_floats(tmp_path):
    cfg = Config.default("classification").replace(
        **{
            "circuit.sigma": 0.1 + 0.2,
            "circuit.dt": 1 / 300,
            "stimulus.mu": math.pi / 4,
            "stimulus.kappa": 2.0,
            "plasticity.eta_D": 1.2345678901234567e-11,
            "plasticity.tau_bar": 1e16,
            "nonlinearity.a": -0.0,
            "init.b": -3.5e-300,
            "init.W_symmetric": True,
            "run.seed": 2**32 - 1,
            "run.target": "numpy",
            "run.replicas": 20,
            "run.duration": 260000.0,
            "test.record_every": 7,
        }
    )
    path = tmp_path / "x.toml"
    cfg.to_toml(path)
    back = Config.from_toml(path)
    assert back == cfg
    for section in SECTIONS:
        for f in dataclasses.fields(SECTIONS[section]):
            a, b = getattr(getattr(cfg, section), f.name), getattr(getattr(back, section), f.name)
            assert a == b and type(a) is type(b), (section, f.name)
    assert math.copysign(1.0, back.nonlinearity.a) == -1.0
    assert back.run.seed == 2**32 - 1
    assert Config.from_toml_string(cfg.to_toml_string()) == cfg


def test_to_dict_from_dict_round_trip():
    cfg = Config.default("estimation").replace(**{"run.seed": 3})
    d = cfg.to_dict()
    assert d["task"] == "estimation"
    assert d["run"]["seed"] == 3
    assert set(d) == {"task", *SECTIONS}
    assert Config.from_dict(d) == cfg


def test_replace():
    cfg = Config.default("estimation")
    new = cfg.replace(**{"circuit.sigma": 0.3, "run.seed": 3})
    assert new.circuit.sigma == 0.3 and new.run.seed == 3
    assert cfg.circuit.sigma == 0.2 and cfg.run.seed is None  # original untouched
    assert new.circuit is not cfg.circuit
    assert cfg.replace({"stimulus.kappa": 2}, run={"replicas": 4}).run.replicas == 4
    assert new.replace(**{"run.seed": None}).run.seed is None
    with pytest.raises(ConfigError, match=r"circuit\.sigmaa .*did you mean circuit\.sigma"):
        cfg.replace(**{"circuit.sigmaa": 0.3})
    with pytest.raises(ConfigError, match=r"circuit\.sigma = -1\.0"):
        cfg.replace(**{"circuit.sigma": -1.0})
    with pytest.raises(ConfigError, match=r"task\.x"):
        cfg.replace(**{"task.x": 1})


def test_steps_and_properties():
    cfg = Config.default()
    assert cfg.steps(5000.0) == 500000
    assert cfg.steps(cfg.run.transient) == 4000
    assert cfg.steps(260000) == 26000000
    assert cfg.steps(0.0) == 0
    assert cfg.steps(0.07) == 7  # 0.07/0.01 is 7.000000000000001
    with pytest.raises(ConfigError, match=r"run\.hold = 0\.005 .*whole number of steps"):
        cfg.steps(0.005, name="run.hold")
    with pytest.raises(ConfigError, match="duration = -1.0"):
        cfg.steps(-1.0)
    with pytest.raises(ConfigError, match="duration = nan"):
        cfg.steps(float("nan"))
    assert Config.default("classification").n_out == 1
    assert cfg.replace(**{"plasticity.tau_bar": 1.0}).k_bar == 0.01


def test_test_params_not_collected():
    assert TestParams.__test__ is False


# --------------------------------------------------------------------------
# Bad inputs: the message names the source, the key and the value
# --------------------------------------------------------------------------

BAD = [
    # (dict, key as printed, value as printed, a fragment of what is allowed)
    ({"circuit": {"sigma": -0.1}}, "circuit.sigma", "-0.1", "finite number >= 0"),
    ({"circuit": {"sigma": float("nan")}}, "circuit.sigma", "nan", "finite"),
    ({"stimulus": {"kappa": float("inf")}}, "stimulus.kappa", "inf", "finite"),
    ({"stimulus": {"mu": float("-inf")}}, "stimulus.mu", "-inf", "finite"),
    ({"circuit": {"N": 0}}, "circuit.N", "0", ">= 1"),
    ({"circuit": {"N": 40.0}}, "circuit.N", "40.0", "integer"),
    ({"circuit": {"N": True}}, "circuit.N", "true", "boolean"),
    ({"circuit": {"N_s": "12"}}, "circuit.N_s", '"12"', "integer"),
    ({"circuit": {"sigma": "0.2"}}, "circuit.sigma", '"0.2"', "string"),
    ({"circuit": {"sigma": False}}, "circuit.sigma", "false", "boolean"),
    ({"circuit": {"dt": 1.0}}, "circuit.dt", "1.0", "dt must be smaller than tau (1 time unit)"),
    ({"circuit": {"dt": 0}}, "circuit.dt", "0", "1e-06 <= dt < 1"),
    ({"circuit": {"dt": 1e-300}}, "circuit.dt", "1e-300", "1e-06 <= dt < 1"),
    ({"circuit": {"tau_ms": 0.0}}, "circuit.tau_ms", "0.0", "> 0"),
    ({"circuit": {"r_min": 0.0}}, "circuit.r_min", "0.0", "0 < r_min"),
    ({"circuit": {"r_min": 200.0}}, "circuit.r_min", "200.0", "r_max"),
    ({"circuit": {"r_max": 0.0001}}, "circuit.r_max", "0.0001", "> circuit.r_min (0.001)"),
    ({"circuit": {"r_max": 0.05}}, "circuit.r_max", "0.05", ">= circuit.r_init (0.1)"),
    ({"circuit": {"r_min": 0.5}}, "circuit.r_min", "0.5", "r_min <= circuit.r_init (0.1)"),
    ({"run": {"duration": 30.0}}, "run.duration", "30.0", "> run.transient (40.0)"),
    ({"run": {"duration": 0}}, "run.duration", "0", "> 0"),
    ({"circuit": {"r_init": 1000.0}}, "circuit.r_init", "1000.0", "r_min <= r_init <= circuit.r_max"),
    ({"circuit": {"neuron": "poisson"}}, "circuit.neuron", '"poisson"', '"poisson" needs circuit.sigma = 0'),
    ({"circuit": {"neuron": "poisson", "sigma": 0.0}, "plasticity": {"rule": "reinforce"}}, "circuit.neuron",
     '"poisson"', 'needs plasticity.rule = "eq10"'),
    ({"circuit": {"neuron": "spiking"}}, "circuit.neuron", '"spiking"', 'one of "rate", "poisson"'),
    ({"circuit": {"rate_scale": -1.0}}, "circuit.rate_scale", "-1.0", "> 0"),
    ({"circuit": {"tau_r": 0.0}}, "circuit.tau_r", "0.0", ">= circuit.dt"),
    ({"nonlinearity": {"beta": 0.0}}, "nonlinearity.beta", "0.0", "> 0"),
    ({"nonlinearity": {"g": -30}}, "nonlinearity.g", "-30", "> 0"),
    ({"nonlinearity": {"kind": "relu"}}, "nonlinearity.kind", '"relu"', '"softplus"'),
    ({"stimulus": {"sigma_s": -0.06}}, "stimulus.sigma_s", "-0.06", ">= 0"),
    ({"plasticity": {"tau_bar": 0.001}}, "plasticity.tau_bar", "0.001", "circuit.dt"),
    ({"plasticity": {"tau_e": 0.001}}, "plasticity.tau_e", "0.001", "circuit.dt"),
    ({"plasticity": {"rule": "hebb"}}, "plasticity.rule", '"hebb"', '"eq10", "reinforce"'),
    ({"plasticity": {"eta_W": -1e-6}}, "plasticity.eta_W", "-1e-06", ">= 0"),
    ({"plasticity": {"lam_D": -1}}, "plasticity.lam_D", "-1", ">= 0"),
    ({"init": {"W_scale": -0.3}}, "init.W_scale", "-0.3", ">= 0"),
    ({"init": {"W_symmetric": 1}}, "init.W_symmetric", "1", "true or false (got an integer)"),
    ({"init": {"W_symmetric": True}, "plasticity": {"rule": "reinforce"}}, "init.W_symmetric", "true",
     'false with plasticity.rule = "reinforce"'),
    ({"run": {"duration": 0.0}}, "run.duration", "0.0", "> 0"),
    ({"run": {"transient": 6000.0}}, "run.transient", "6000.0", "run.duration"),
    ({"run": {"transient": -1.0}}, "run.transient", "-1.0", "0 <= transient"),
    ({"run": {"seed": -1}}, "run.seed", "-1", "4294967295"),
    ({"run": {"seed": 2**32}}, "run.seed", "4294967296", "4294967295"),
    ({"run": {"seed": 1.5}}, "run.seed", "1.5", "integer"),
    ({"run": {"target": "cuda"}}, "run.target", '"cuda"', '"cpp_standalone"'),
    ({"run": {"replicas": 0}}, "run.replicas", "0", ">= 1"),
    ({"run": {"workers": 2}}, "run.workers", "2", "[1, run.replicas] ([1, 1])"),
    ({"run": {"checkpoint_every": -5.0}}, "run.checkpoint_every", "-5.0", ">= 0"),
    ({"run": {"curve_bin": 0.001}}, "run.curve_bin", "0.001", "circuit.dt"),
    ({"run": {"trial": 20.0}}, "run.trial", "20.0", "> run.transient (40.0)"),
    ({"test": {"angles": 0}}, "test.angles", "0", ">= 1"),
    ({"test": {"hold": -200.0}}, "test.hold", "-200.0", "> 0"),
    ({"test": {"record_every": 0}}, "test.record_every", "0", ">= 1"),
    ({"test": {"record_every": [20]}}, "test.record_every", "[20]", "array"),
    ({"test": {"trials": 0}}, "test.trials", "0", ">= 1"),
    ({"test": {"trials": 2.5}}, "test.trials", "2.5", "integer"),
    ({"test": {"start": "zero"}}, "test.start", '"zero"', '"current", "reset"'),
    ({"task": "regression"}, "task", '"regression"', '"estimation", "classification"'),
    ({"task": "clasification"}, "task", '"clasification"', 'did you mean "classification"'),
    ({"task": 1}, "task", "1", "estimation"),
    ({"circuit": {"sigmaa": 0.3}}, "circuit.sigmaa", "0.3", "did you mean circuit.sigma?"),
    ({"circuit": {"n": 40}}, "circuit.n", "40", "did you mean circuit.N?"),
    ({"plasticity": {"eta_w": 1e-6}}, "plasticity.eta_w", "1e-06", "did you mean plasticity.eta_W?"),
    ({"circut": {"sigma": 0.3}}, "circut", "{sigma = 0.3}", "did you mean [circuit]?"),
    ({"tsk": "estimation"}, "tsk", '"estimation"', "did you mean task?"),
    ({"circuit": 3}, "circuit", "3", "must be a table [circuit]"),
]


@pytest.mark.parametrize(
    "d, key, value, allowed", BAD, ids=[f"{k}={v}" for _, k, v, _ in BAD]
)
def test_bad_input_message(d, key, value, allowed):
    with pytest.raises(ConfigError) as info:
        Config.from_dict(d, source="models/x.toml")
    msg = str(info.value)
    assert isinstance(info.value, ValueError)
    assert msg.startswith("models/x.toml: ")
    assert f"{key} = {value} is not allowed" in msg, msg
    assert allowed in msg, msg
    # a single problem gives a single line (no cascade into dependent fields)
    assert len(info.value.errors) == 1, msg


def test_message_format_example():
    with pytest.raises(ConfigError) as info:
        Config.from_dict({"circuit": {"sigma": -0.1}}, source="models/x.toml")
    assert str(info.value) == (
        "models/x.toml: circuit.sigma = -0.1 is not allowed: must be a finite number >= 0"
    )


def test_all_errors_reported_together():
    with pytest.raises(ConfigError) as info:
        Config.from_dict({"circuit": {"sigma": -1.0, "N": 0, "bogus": 1}, "run": {"seed": -2}})
    msg = str(info.value)
    for frag in ("circuit.sigma = -1.0", "circuit.N = 0", "circuit.bogus = 1", "run.seed = -2"):
        assert frag in msg
    assert len(info.value.errors) == 4
    assert all(line.startswith("<dict>: ") for line in msg.splitlines())


def test_from_toml_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('task = "estimation"\n[circuit]\nsigma = -0.1\n')
    with pytest.raises(ConfigError) as info:
        Config.from_toml(path)
    assert str(info.value).startswith(f"{path}: circuit.sigma = -0.1 is not allowed")

    path.write_text("[circuit\nsigma = 0.1\n")
    with pytest.raises(ConfigError, match="invalid TOML") as info:
        Config.from_toml(path)
    assert str(path) in str(info.value)

    with pytest.raises(ConfigError, match="cannot read"):
        Config.from_toml(tmp_path / "missing.toml")


def test_validate_catches_mutation():
    cfg = Config.default()
    cfg.circuit.sigma = -1.0
    with pytest.raises(ConfigError, match=r"<Config>: circuit\.sigma = -1\.0"):
        cfg.validate()
    with pytest.raises(ConfigError, match=r"here: circuit\.sigma = -1\.0"):
        cfg.validate(source="here")
