"""The index page of a batch run (insats.runner.index): text from data and params is escaped."""

from __future__ import annotations

from insats.runner.index import render_index


def test_index_escapes_text_from_data():
    page = render_index(
        {
            "namn": "t",
            "rapporter": [
                {
                    "namn": "<b>",
                    "status": "fel",
                    "parametrar": {"a": 1},
                    "fel": {"typ": "ValueError", "meddelande": "x<y", "cell": 3},
                }
            ],
        }
    )
    assert "&lt;b&gt;" in page and "x&lt;y" in page and "cell 3" in page and "<script" not in page
