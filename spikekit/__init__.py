"""spikekit: will your casino platform survive the viral spike?"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("spikekit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
