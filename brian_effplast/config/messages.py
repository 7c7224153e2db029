"""Messages of the configuration layer, and reading model files.

Every error names its source (a file, ``--set``, ``Config.replace()``), the
key as ``section.key``, the value and what is allowed (:func:`error_line`);
every failure to read a model file is one :class:`~brian_effplast.config.schema.ConfigError`
naming the file (:func:`read_model_file`, :func:`decode_toml`, :func:`parse_toml`).
"""

from __future__ import annotations

import codecs
import difflib
import json
import math
import re
import sys
import tomllib
from typing import Any, Mapping

from .schema import MAX_FILE_BYTES, ConfigError

__all__ = ["fmt", "type_name", "dotted", "error_line", "suggest", "source_name", "bare_name", "toml_value",
           "read_model_file", "decode_toml", "parse_toml", "gib", "duration_text"]

# --------------------------------------------------------------------------
# Formatting helpers
# --------------------------------------------------------------------------


#: Longest value (or name) quoted in a message; longer ones are cut.
_MAX_SHOWN = 200
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _clip(text: str, limit: int = _MAX_SHOWN) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit - 40]}... ({len(text)} characters)"


def fmt(value: Any, _depth: int = 0) -> str:
    """Format a value for messages (TOML-like, one line, at most about ``_MAX_SHOWN`` characters)."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if value.bit_length() > 256:  # str() of huge ints is slow or refused (int_max_str_digits)
            digits = hex(abs(value))[2:]
            return f"{'-' if value < 0 else ''}0x{digits[:16]}... (a {value.bit_length()}-bit integer)"
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return _clip(json.dumps(value))
    if isinstance(value, (Mapping, list, tuple)):
        mapping = isinstance(value, Mapping)
        if _depth >= 4:
            return "{...}" if mapping else "[...]"
        parts, size = [], 0
        items = value.items() if mapping else value
        for item in items:
            if size > _MAX_SHOWN:
                parts.append(f"... ({len(value)} items)")
                break
            text = (f"{bare_name(str(item[0]))} = {fmt(item[1], _depth + 1)}" if mapping
                    else fmt(item, _depth + 1))
            parts.append(text)
            size += len(text) + 2
        inner = ", ".join(parts)
        return "{" + inner + "}" if mapping else "[" + inner + "]"
    return _clip(_one_line(repr(value)))


def _one_line(text: Any) -> str:
    """``text`` (e.g. an exception's message) on one line."""
    return " ".join(str(text).splitlines())


def bare_name(name: str) -> str:
    """A key or section name as written in TOML: bare when it can be, else quoted (one line)."""
    return _clip(name) if _BARE_KEY.fullmatch(name) else _clip(json.dumps(name))


def source_name(source: Any) -> str:
    """A source name for messages (quoted if it would span several lines)."""
    text = str(source)
    return text if "".join(text.splitlines()) == text else json.dumps(text)


def type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, (list, tuple)):
        return "an array"
    return f"a {type(value).__name__}"


def dotted(section: str, key: str) -> str:
    """``section.key`` for messages (names that are not bare TOML keys are quoted)."""
    return f"{bare_name(section)}.{bare_name(key)}" if section else bare_name(key)


def error_line(source: str, path: str, value: Any, allowed: str) -> str:
    return f"{source}: {path} = {fmt(value)} is not allowed: {allowed}"


def suggest(name: str, choices) -> str:
    choices = list(choices)
    lower = {c.lower(): c for c in choices}
    if name.lower() in lower:
        return lower[name.lower()]
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.6)
        close = [lower[c] for c in close]
    return close[0] if close else ""


def _toml_string(s: str) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\u{o:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return repr(value)  # always contains '.' or 'e': a TOML float
    if isinstance(value, str):
        return _toml_string(value)
    raise TypeError(f"cannot write {value!r} to TOML")  # pragma: no cover



# --------------------------------------------------------------------------
# Reading model files: every failure is one ConfigError naming the file
# --------------------------------------------------------------------------

_CANNOT_READ = "cannot read the configuration file"


def read_model_file(path: Any, source: str) -> bytes:
    """The bytes of ``path`` (at most ``MAX_FILE_BYTES``)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except IsADirectoryError as exc:
        raise ConfigError(f"{source}: {_CANNOT_READ}: it is a directory, not a TOML file") from exc
    except FileNotFoundError as exc:
        raise ConfigError(f"{source}: {_CANNOT_READ}: no such file") from exc
    except PermissionError as exc:
        raise ConfigError(f"{source}: {_CANNOT_READ}: permission denied") from exc
    except OSError as exc:
        raise ConfigError(f"{source}: {_CANNOT_READ}: {_one_line(exc.strerror or exc)}") from exc
    except ValueError as exc:  # e.g. a NUL character in the path
        raise ConfigError(f"{source}: {_CANNOT_READ}: not a valid path ({_one_line(exc)})") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(f"{source}: {_CANNOT_READ}: it is larger than {gib(MAX_FILE_BYTES)} "
                          "(a model file is a few kB of TOML text)")
    return raw


def decode_toml(raw: bytes, source: str) -> str:
    """UTF-8 text of a model file (TOML files are UTF-8; a UTF-8 byte-order mark is dropped)."""
    not_text = f"{source}: {_CANNOT_READ}: it is not UTF-8 TOML text"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # (BOM_UTF32_LE starts with BOM_UTF16_LE)
        kind = "UTF-32" if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) else "UTF-16"
        raise ConfigError(f"{not_text} (it starts with a {kind} byte-order mark: save it as UTF-8)")
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{not_text} (byte 0x{raw[exc.start]:02x} at offset {exc.start} is not valid "
                          "UTF-8: a binary file, or another encoding? save it as UTF-8)") from None
    nul = text.find("\0")
    if nul >= 0:
        raise ConfigError(f"{not_text} (it contains a NUL byte, character {nul}: a binary or UTF-16 file?)")
    return text


def parse_toml(text: str, source: str) -> dict:
    """``tomllib.loads(text)``; any failure of the parser is a ConfigError naming ``source``."""
    invalid = f"{source}: invalid TOML"
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{invalid}: {_one_line(exc)}") from exc
    except RecursionError:
        raise ConfigError(f"{invalid}: arrays or tables nested too deeply") from None
    except MemoryError:
        raise ConfigError(f"{invalid}: too large to parse") from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):  # sys.int_max_str_digits
            raise ConfigError(f"{invalid}: an integer has more than {sys.get_int_max_str_digits()} "
                              "digits") from exc
        raise ConfigError(f"{invalid}: {_clip(_one_line(exc))}") from exc
    except Exception as exc:  # anything else the parser may raise on odd input
        raise ConfigError(f"{invalid}: {type(exc).__name__}: {_clip(_one_line(exc))}") from exc


def gib(n: int) -> str:
    """A size in bytes for messages (GiB, or MiB / KiB when small)."""
    try:
        x = n / 2**30
    except OverflowError:
        return "more than 1e+300 GiB"
    if x < 1:
        return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 1024:.1f} KiB"
    return f"{x:.1f} GiB" if x < 1e5 else f"{x:.3g} GiB"


def duration_text(seconds: float, unknown: str = "?") -> str:
    """A duration in seconds for messages and progress lines (s, min, hours, days, years);
    ``unknown`` when it is not finite."""
    day = 86400.0
    if not math.isfinite(seconds):
        return unknown
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * day:
        return f"{seconds / 3600:.1f} hours"
    if seconds < 365 * day:
        return f"{seconds / day:.1f} days"
    return f"{seconds / (365.25 * day):.3g} years"
