"""Strip outputs from notebooks: a git clean filter, so notebooks are committed without outputs.

``make setup`` registers it (``git config filter.nbstrip.clean``) and ``.gitattributes`` applies
it to ``*.ipynb``. As a filter it reads a notebook on stdin and writes the stripped one to stdout;
with paths it strips those files in place.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

VOLATILE_METADATA = ("execution", "collapsed", "scrolled")


def strip(nb: dict) -> dict:
    """The notebook without outputs, execution counts and per-run metadata (tags are kept)."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        meta = cell.get("metadata", {})
        for key in VOLATILE_METADATA:
            meta.pop(key, None)
        if "papermill" in meta:
            meta.pop("papermill")
    nb.get("metadata", {}).pop("papermill", None)
    nb.get("metadata", {}).pop("widgets", None)
    return nb


def dumps(nb: dict) -> str:
    return json.dumps(nb, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        sys.stdout.write(dumps(strip(json.load(sys.stdin))))
        return 0
    for name in argv:
        path = Path(name)
        text = dumps(strip(json.loads(path.read_text(encoding="utf-8"))))
        path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
