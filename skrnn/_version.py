"""The package version (one place: the package, its metadata and model files read it)."""

__version__ = "0.1.0"
