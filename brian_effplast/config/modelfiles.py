"""The model files shipped with the package (``models/*.toml`` of the repository).

They are installed inside the package (``brian_effplast.models``), so
``brian-effplast train estimation`` finds ``estimation.toml`` wherever the
package is installed; a path to any other TOML file works as well.
"""

import importlib.resources
from pathlib import Path

from .configuration import ConfigError

__all__ = ["model_path", "shipped_models"]


def _folder():
    return importlib.resources.files("brian_effplast.models")


def shipped_models():
    """Names of the shipped model files, without ``.toml`` (sorted)."""
    return sorted(p.name[:-5] for p in _folder().iterdir() if p.name.endswith(".toml"))


def model_path(model):
    """The file of ``model``: a path to a TOML file, or the name of a shipped model
    (``"estimation"`` or ``"estimation.toml"``)."""
    path = Path(model)
    if path.is_file() or path.parent != Path(".") or path.exists():
        return path  # a path given explicitly (Config.from_toml names it if it is bad)
    name = path.name if path.name.endswith(".toml") else path.name + ".toml"
    shipped = _folder() / name
    if shipped.is_file():
        return Path(str(shipped))
    raise ConfigError(f"{model}: no such model file, and not a shipped model: the shipped models are "
                      + ", ".join(shipped_models()))
