"""insats: evaluate labour-market interventions for people on social assistance, per district."""

import importlib

__version__ = "0.1.0"

# The public API, imported on first use so that `insats --help` and kernel start stay quick.
_API = {
    "load_study": "data.load",
    "StudyError": "data.load",
    "validate_study": "data.validate",
    "Study": "data.study",
    "generate": "intake.synth",
    "compute_measures": "analysis.measures",
    "write_measures": "analysis.measures",
    "run_batch": "runner.batch",
    "KoladaClient": "intake.kolada",
}
__all__ = ["__version__", *_API]


def __getattr__(name):
    if name in _API:
        return getattr(importlib.import_module(f".{_API[name]}", __name__), name)
    raise AttributeError(f"module 'insats' has no attribute {name!r}")
