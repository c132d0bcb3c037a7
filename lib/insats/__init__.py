"""insats: evaluate labour-market interventions for people on social assistance, per district."""

import importlib
import sys

__version__ = "0.1.0"

# jsonschema (which altair imports) adds an IRI format check when the optional package
# ``rfc3987_syntax`` is installed, as it is here through jupyter_events; importing that package
# compiles an Earley grammar, about 1 s of every kernel's start (a third of its imports), for a check
# that no schema insats validates uses. Unless something has imported it already, it is marked absent
# so that jsonschema skips that one format (benchmarks/imports.py measures the difference).
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

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
