"""Shared test support: repository paths, recorded fixtures, browser helpers (``support.browser``)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository root."""

FIXTURES = ROOT / "tests" / "fixtures"
"""Recorded responses and fixture notebooks."""

REFERENCE = ROOT.parent / "shared" / "reference"
"""Real published figures beside the repository (optional: tests that need them skip without)."""
