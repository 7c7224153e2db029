"""Hostile input to the configuration loader: odd files, absurd values, resource estimates.

Every problem must be one :class:`ConfigError` naming the file (or source),
never another exception; the property-based tests feed random TOML documents,
random text and bytes to ``Config.from_toml`` and random ``--set`` values to
the command line's helpers.
"""

import json
import math
import os
import random
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from brian_effplast import cli
from brian_effplast.config import (MAX_FILE_BYTES, SECTIONS, Config, ConfigError, check_resources,
                                   estimate_memory, estimate_seconds)

GiB = 2**30
FIELDS = {name: [f.name for f in cls.__dataclass_fields__.values()] for name, cls in SECTIONS.items()}


def load_error(path):
    """The ConfigError of Config.from_toml(path) (any other exception fails the test)."""
    with pytest.raises(ConfigError) as info:
        Config.from_toml(path)
    assert type(info.value) is ConfigError
    return str(info.value)


def assert_names_file(message, path):
    lines = message.splitlines()
    assert lines, "empty message"
    for line in lines:
        assert line.startswith(f"{path}: "), (line, message)


# ---------------------------------------------------------------------------
# Files that are not UTF-8 TOML text, or not files at all
# ---------------------------------------------------------------------------

def test_binary_file(tmp_path):
    path = tmp_path / "model.toml"
    rng = random.Random(1)
    path.write_bytes(b"\x00\xff\xfe" + bytes(rng.randrange(256) for _ in range(4000)) + b"\x00")
    msg = load_error(path)
    assert_names_file(msg, path)
    assert "not UTF-8 TOML text" in msg and len(msg.splitlines()) == 1


def test_binary_file_that_is_valid_utf8(tmp_path):
    path = tmp_path / "model.toml"
    path.write_bytes(b"task = \"estimation\"\n\x00\x01\x02\x03")
    msg = load_error(path)
    assert_names_file(msg, path)
    assert "not UTF-8 TOML text" in msg and "NUL" in msg


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_file(tmp_path, encoding):
    path = tmp_path / "model.toml"
    text = Config.default().to_toml_string()
    data = text.encode(encoding)
    if encoding == "utf-16-le":
        data = b"\xff\xfe" + data
    elif encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path.write_bytes(data)
    msg = load_error(path)
    assert_names_file(msg, path)
    assert "not UTF-8 TOML text" in msg and "UTF-" in msg and len(msg.splitlines()) == 1


def test_utf16_without_bom(tmp_path):
    path = tmp_path / "model.toml"
    path.write_bytes(Config.default().to_toml_string().encode("utf-16-le"))
    msg = load_error(path)
    assert_names_file(msg, path)
    assert "not UTF-8 TOML text" in msg


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "model.toml"
    path.write_bytes(b"\xef\xbb\xbf" + b"[circuit]\nsigma = 0.33\n")
    assert Config.from_toml(path).circuit.sigma == 0.33


def test_directory(tmp_path):
    msg = load_error(tmp_path)
    assert_names_file(msg, tmp_path)
    assert "directory" in msg and len(msg.splitlines()) == 1


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere" / "missing.toml"
    msg = load_error(path)
    assert_names_file(msg, path)
    assert "no such file" in msg and len(msg.splitlines()) == 1
    assert_names_file(load_error(str(path)), path)


def test_path_with_nul_character(tmp_path):
    path = str(tmp_path / "a\x00b.toml")
    with pytest.raises(ConfigError, match="cannot read"):
        Config.from_toml(path)


def test_file_too_large(tmp_path):
    path = tmp_path / "huge.toml"
    path.write_bytes(b"# " + b"x" * MAX_FILE_BYTES + b"\n")
    msg = load_error(path)
    assert_names_file(msg, path)
    assert "larger than" in msg


@pytest.mark.parametrize("text, fragment", [
    ("x = " + "[" * 5000 + "]" * 5000, "nested too deeply"),
    ("x = " + "{a = " * 3000 + "1" + "}" * 3000, "nested too deeply"),
    ("[circuit]\nN = " + "9" * 5000, "digits"),
    ("[circuit]\nN = 0x" + "f" * 5000, "circuit.N = 0xffff"),  # parses: refused as too large
    ("[circuit\nsigma = 1", "invalid TOML"),
    ("a = 1\na = 2", "invalid TOML"),
    ("\ufeff\ufeffa = 1", "invalid TOML"),
])
def test_parser_failures_are_config_errors(tmp_path, text, fragment):
    path = tmp_path / "model.toml"
    path.write_text(text, encoding="utf-8")
    msg = load_error(path)
    assert_names_file(msg, path)
    assert fragment in msg, msg
    with pytest.raises(ConfigError, match="^<string>: "):
        Config.from_toml_string(text)


def test_error_lines_stay_single_lines(tmp_path):
    path = tmp_path / "model.toml"
    path.write_text('[circuit]\n"sig\\nma" = 1\n["new\\nsection"]\n"a\\u2028b" = "x\\ny"\n')
    msg = load_error(path)
    assert_names_file(msg, path)
    assert len(msg.splitlines()) == 2


# ---------------------------------------------------------------------------
# Finite but absurd values
# ---------------------------------------------------------------------------

def one_error(d, source="models/x.toml"):
    with pytest.raises(ConfigError) as info:
        Config.from_dict(d, source=source)
    assert len(info.value.errors) == 1, info.value.errors
    return str(info.value)


def test_huge_sigma_refused():
    msg = one_error({"circuit": {"sigma": 1e308}})
    assert msg.startswith("models/x.toml: circuit.sigma = 1e+308 is not allowed: must be ")
    assert "sigma <= 99.999" in msg  # 0.1*(100 - 0.001)/sqrt(0.01)
    # the bound follows dt and the rate range
    msg = one_error({"circuit": {"sigma": 20.0, "dt": 0.5, "r_max": 50.0}})
    assert "circuit.sigma = 20.0" in msg and f"sigma <= {0.1 * (50 - 0.001) / math.sqrt(0.5):.6g}" in msg


@pytest.mark.parametrize("sigma", [0.0, 0.2, 0.33, 0.5, 5.0, 99.0])
def test_reasonable_sigma_accepted(sigma):
    assert Config.default().replace(**{"circuit.sigma": sigma}).circuit.sigma == sigma
    assert Config.default("classification").replace(**{"circuit.sigma": sigma}).circuit.sigma == sigma


def test_huge_sigma_s_refused():
    msg = one_error({"stimulus": {"sigma_s": 1e6}})
    assert msg.startswith("models/x.toml: stimulus.sigma_s = 1000000.0 is not allowed")
    assert f"{math.pi / 0.1:.6g}" in msg and "pi" in msg
    assert Config.from_dict({"stimulus": {"sigma_s": 3.0}}).stimulus.sigma_s == 3.0


@pytest.mark.parametrize("key, value, bound", [
    ("plasticity.eta_W", 1e308, "eta_W <= 1250"),  # 1/(0.01*100*8e-4)
    ("plasticity.eta_D", 1e4, "eta_D <= 1250"),
    ("plasticity.lam_C", 1e7, "lam_C <= 200000"),  # 1/(0.01*100*5e-6)
    ("plasticity.eta_b", 1e300, "eta_b <="),
])
def test_l2_step_overshoot_refused(key, value, bound):
    section, name = key.split(".")
    msg = one_error({section: {name: value}})
    assert f"{key} = " in msg and bound in msg and "overshoot" in msg, msg


def test_l2_bound_keeps_usable_values():
    # no L2 term: the learning rate alone has no principled bound
    cfg = Config.from_dict({"plasticity": {"eta_W": 1e6, "lam_W": 0.0}})
    assert cfg.plasticity.eta_W == 1e6
    # the divergence test of test_cli uses eta_D = 1000 with the default lam_D
    assert Config.from_dict({"plasticity": {"eta_D": 1000.0}}).plasticity.eta_D == 1000.0


def test_dependency_failure_gives_one_message():
    # a bad dt is reported once; sigma, sigma_s, eta and lam are only checked for >= 0
    msg = one_error({"circuit": {"dt": 2.0, "sigma": 50.0}, "stimulus": {"sigma_s": 30.0}})
    assert "circuit.dt = 2.0" in msg
    with pytest.raises(ConfigError) as info:
        Config.from_dict({"circuit": {"dt": "x", "sigma": -1.0}})
    assert len(info.value.errors) == 2 and "circuit.sigma = -1.0" in str(info.value)


def test_huge_integer_counts_refused():
    msg = one_error({"circuit": {"N": 2**40}})
    assert "circuit.N = 1099511627776 is not allowed: must be an integer in [1, 2147483647]" in msg
    msg = one_error({"run": {"replicas": 0xF << 20000}})
    assert "run.replicas = 0xf" in msg and "20004-bit integer" in msg


# ---------------------------------------------------------------------------
# Resource estimates
# ---------------------------------------------------------------------------

def test_estimate_memory_scales():
    small = estimate_memory(Config.default())
    assert isinstance(small, int) and 0 < small < 64 * 2**20
    big = Config.default().replace(**{"circuit.N": 100000})
    assert estimate_memory(big) > 70 * GiB
    two = Config.default().replace(**{"run.replicas": 2})
    assert estimate_memory(two) > 1.5 * small  # the learning curve grows with R + 1


def test_check_resources_refuses_huge_model_without_allocating():
    cfg = Config.from_dict({"circuit": {"N": 100000}}, source="models/big.toml")
    start = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        check_resources(cfg, available_bytes=64 * GiB)
    assert time.perf_counter() - start < 0.5
    msg = str(info.value)
    assert msg.startswith("models/big.toml: circuit.N = 100000 is not allowed: the model needs an estimated ")
    assert "GiB of memory" in msg and "available: 64.0 GiB" in msg and len(msg.splitlines()) == 1
    # the machine's own memory by default (nobody has ~900 GiB here)
    if os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") < estimate_memory(cfg):
        with pytest.raises(ConfigError, match=r"circuit\.N = 100000 .* this machine has [\d.]+ GiB"):
            check_resources(cfg)


def test_check_resources_names_the_big_key():
    cfg = Config.default().replace(**{"run.replicas": 1000})
    with pytest.raises(ConfigError, match=r"run\.replicas = 1000 is not allowed: .* at most about \d+ replicas"):
        check_resources(cfg, available_bytes=200 * 2**20)
    with pytest.raises(ConfigError, match=r"circuit\.N_s = 10000000 is not allowed"):
        check_resources(Config.default().replace(**{"circuit.N_s": 10**7}), available_bytes=8 * GiB)
    with pytest.raises(ConfigError, match=r"run\.duration = 1000000000\.0 is not allowed: .*learning curve"):
        check_resources(Config.default().replace(**{"run.duration": 1e9}), available_bytes=8 * GiB)


def test_check_resources_passes_reference_model():
    assert check_resources(Config.default()) == []
    assert check_resources(Config.default("classification")) == []
    with pytest.raises(ConfigError, match=r"^Config.default\(\): .* is not allowed: .* available: 1.0 KiB"):
        check_resources(Config.default(), available_bytes=1024)
    with pytest.raises(ConfigError, match=r"circuit\.N = 40 is not allowed: .* available: 100.0 KiB"):
        check_resources(Config.default().replace(**{"run.curve_bin": 100.0}), available_bytes=100 * 1024)


def test_duration_warning():
    long = Config.default().replace(**{"run.duration": 1e9, "run.curve_bin": 1000.0})
    warnings = check_resources(long)
    assert len(warnings) == 1, warnings
    assert "run.duration = 1000000000.0 time units on cpp_standalone: estimated" in warnings[0]
    assert "days" in warnings[0] and "R = 1, N = 40" in warnings[0]
    assert estimate_seconds(long) > 86400
    assert check_resources(Config.default().replace(**{"run.duration": 20000.0})) == []
    numpy = Config.default().replace(**{"run.duration": 20000.0, "run.target": "numpy"})
    assert check_resources(numpy) == [] and 300 < estimate_seconds(numpy) < 3000


def test_workers_divide_the_replica_part():
    one = Config.default().replace(**{"run.replicas": 20, "run.target": "numpy"})
    two = one.replace(**{"run.workers": 2})
    assert estimate_seconds(two) < 0.6 * estimate_seconds(one)


def test_absurd_sizes_do_not_crash_the_estimates():
    cfg = Config.default().replace(**{"circuit.N": 2**31 - 1, "run.replicas": 2**31 - 1,
                                      "run.duration": 1e300})
    assert estimate_memory(cfg) > 2**90
    assert estimate_seconds(cfg) > 1e300
    with pytest.raises(ConfigError, match=r"run\.duration = 1e\+300 is not allowed: .*learning curve"):
        check_resources(cfg)
    with pytest.raises(ConfigError, match=r"circuit\.N = 2147483647 is not allowed"):
        check_resources(cfg.replace(**{"run.curve_bin": 1e299}))
    assert len(check_resources(Config.default().replace(**{"run.duration": 1e300, "run.curve_bin": 1e299}),
                               available_bytes=2**62)) == 1


def test_estimate_seconds_matches_benchmarks():
    """Within a factor 2 of every Brian2 figure of benchmarks/results.json."""
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "results.json"
    if not path.is_file():
        pytest.skip("no benchmarks/results.json")
    results = [r for r in json.loads(path.read_text())["results"]
               if r.get("impl") in ("numpy", "cython", "cpp_standalone")]
    assert results
    for r in results:
        cfg = Config.default(r["task"]).replace(**{"circuit.N": r["N"], "run.replicas": r["R"],
                                                  "run.target": r["impl"], "run.duration": 1000.0})
        per_step = estimate_seconds(cfg) / cfg.steps(1000.0)
        measured = r["us_wall"] * 1e-6
        assert 0.5 < per_step / measured < 2, (r["impl"], r["N"], r["R"], per_step, measured)


# ---------------------------------------------------------------------------
# Property-based: random documents, text, bytes and --set values
# ---------------------------------------------------------------------------

UNICODE = st.characters(blacklist_categories=("Cs",))  # no lone surrogates: they are not UTF-8
JUNK_NAMES = st.one_of(st.text(UNICODE, max_size=12),
                       st.sampled_from(["", " ", "a\nb", "x\u2028y", "z\x85", "sigma\r", "N ", "a.b", "[x]"]))
SECTION_NAMES = st.one_of(st.sampled_from(list(SECTIONS) + ["task", "Circuit", "run.x"]), JUNK_NAMES)
ALL_FIELDS = sorted({f for fields in FIELDS.values() for f in fields})
KEY_NAMES = st.one_of(st.sampled_from(ALL_FIELDS), JUNK_NAMES)

FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 5e-324, 1e-300, 0.0, -0.0, 0.5, 1.0, 1e9, 1e-9, math.pi]),
)
INTS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2**31, 2**32, 2**63 - 1, -(2**63), 10**300]),
)


def toml_str(text):
    """A TOML basic string."""
    out = []
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def toml_key(name):
    return name if name and all(c.isascii() and (c.isalnum() or c in "_-") for c in name) else toml_str(name)


def toml_float(x):
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


# Scalar TOML literals as text; some are deliberately odd (still parseable or not).
SCALAR_TEXT = st.one_of(
    INTS.map(str),
    FLOATS.map(toml_float),
    st.booleans().map(lambda b: "true" if b else "false"),
    st.text(UNICODE, max_size=20).map(toml_str),
    st.text(UNICODE, max_size=20).map(json.dumps),  # \\u escapes, some of them surrogates (invalid TOML)
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="'\n\r"), max_size=20).map(
        lambda s: f"'{s}'"),
    st.sampled_from(["1979-05-27", "07:32:00", "1979-05-27T07:32:00Z", "1979-05-27 07:32:00.999999",
                     "0xDEADBEEF", "0o777", "0b1010", "+inf", "-nan", "1_000", "6.626e-34", "[]", "{}",
                     '"""multi\nline"""', "'''raw'''", "0x" + "f" * 600, "9" * 4400, "[" * 400 + "]" * 400]),
)


TASK_TEXT = st.sampled_from(['"estimation"', '"classification"', '"regression"'])


@st.composite
def toml_values(draw, depth=0):
    if depth >= 3 or draw(st.integers(0, 3)) > 0:
        return draw(SCALAR_TEXT)
    if draw(st.booleans()):
        items = draw(st.lists(toml_values(depth + 1), max_size=4))
        return "[" + ", ".join(items) + "]"
    pairs = draw(st.lists(st.tuples(KEY_NAMES, toml_values(depth + 1)), max_size=3,
                          unique_by=lambda kv: kv[0]))
    return "{" + ", ".join(f"{toml_key(k)} = {v}" for k, v in pairs) + "}"


@st.composite
def toml_documents(draw):
    lines = []
    if draw(st.booleans()):
        lines.append("task = " + draw(st.one_of(TASK_TEXT, SCALAR_TEXT)))
    for section in draw(st.lists(SECTION_NAMES, max_size=5)):
        header = toml_key(section)
        if draw(st.integers(0, 5)) == 0:
            header += "." + toml_key(draw(KEY_NAMES))  # a nested table
        lines.append(f"[{header}]")
        keys = FIELDS.get(section, [])
        names = draw(st.lists(st.one_of(st.sampled_from(keys), KEY_NAMES) if keys else KEY_NAMES, max_size=6))
        for key in names:
            lines.append(f"{toml_key(key)} = {draw(toml_values())}")
    if draw(st.integers(0, 9)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.text(max_size=30)))  # a junk line
    return "\n".join(lines) + "\n"


HOSTILE = settings(max_examples=300, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
DOCUMENTS = settings(HOSTILE, max_examples=200)  # slower to generate: keeps the file under ~20 s


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile") / "model.toml"


def check_load(path):
    try:
        cfg = Config.from_toml(path)
    except ConfigError as exc:
        assert type(exc) is ConfigError
        assert str(exc).strip(), "empty message"
        assert_names_file(str(exc), path)
        return None
    assert isinstance(cfg, Config)
    # a loaded configuration is valid and survives a round trip through TOML
    assert Config.from_toml_string(cfg.to_toml_string()).to_dict() == cfg.to_dict()
    return cfg


@DOCUMENTS
@given(text=toml_documents())
def test_random_toml_documents(model_path, text):
    model_path.write_text(text, encoding="utf-8", errors="surrogatepass")
    check_load(model_path)


@HOSTILE
@given(text=st.text(max_size=300))
def test_random_text(model_path, text):
    model_path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    check_load(model_path)


@HOSTILE
@given(data=st.binary(max_size=300))
def test_random_bytes(model_path, data):
    model_path.write_bytes(data)
    check_load(model_path)


@DOCUMENTS
@given(doc=toml_documents(), prefix=st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\x00"]))
def test_random_documents_with_odd_starts(model_path, doc, prefix):
    model_path.write_bytes(prefix + doc.encode("utf-8", errors="surrogatepass"))
    check_load(model_path)


# --set section.key=value through the command line's helpers.  Two inputs make
# cli._parse_set raise other exceptions (reported, cli.py not changed here):
# deeply nested arrays (RecursionError) and integers of more than 4300 digits
# (ValueError); they are left out of the property test and pinned below.
SET_VALUE_TEXT = st.one_of(SCALAR_TEXT, toml_values(), st.text(max_size=20)).filter(
    lambda t: "[" * 100 not in t and "9" * 4300 not in t)


@st.composite
def set_items(draw):
    if draw(st.integers(0, 4)) == 0:
        return draw(st.text(max_size=40))
    section = draw(SECTION_NAMES)
    keys = FIELDS.get(section, [])
    key = draw(st.one_of(st.sampled_from(keys), KEY_NAMES) if keys else KEY_NAMES)
    sep = draw(st.sampled_from(["=", " = ", "=="]))
    return f"{section}.{key}{sep}{draw(SET_VALUE_TEXT)}"


@HOSTILE
@given(items=st.lists(set_items(), max_size=4), task=st.sampled_from(["estimation", "classification"]))
@example(items=["circuit.N=0", "plasticity.lam_sigma_ref=1e-300"], task="estimation")  # once an OverflowError
def test_random_set_values(items, task):
    try:
        sets = cli._parse_set(items)
        cfg = cli._apply_set(Config.default(task), sets)
    except cli.UsageError as exc:
        assert str(exc).strip()
        return
    except ConfigError as exc:
        assert str(exc).strip()
        assert all(line.startswith("--set: ") for line in str(exc).splitlines()), str(exc)
        return
    assert isinstance(cfg, Config)


@pytest.mark.parametrize("value", ["[" * 5000, "9" * 5000])
def test_set_parser_failures(value):
    try:
        cli._apply_set(Config.default(), cli._parse_set([f"circuit.N={value}"]))
    except (cli.UsageError, ConfigError):
        pass
