"""One report on a kernel (insats.runner.execute): what is kept of a cell's outputs."""

from __future__ import annotations

import nbformat

from insats.runner.execute import merge_adjacent_streams


def _stream(name: str, text: str):
    return nbformat.v4.new_output("stream", name=name, text=text)


def test_a_line_printed_in_pieces_is_one_output_and_order_is_kept():
    chart = nbformat.v4.new_output("display_data", data={"text/html": "<b>diagram</b>"})
    cell = nbformat.v4.new_code_cell("print(namn, antal)")
    cell.outputs = [
        _stream("stdout", "Spånga-Tensta"),
        _stream("stdout", " 38000\n"),
        _stream("stderr", "varning\n"),
        _stream("stdout", "cwd /x\n"),
        chart,
        _stream("stdout", "efter\n"),
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("text"), cell])
    merge_adjacent_streams(nb)
    kept = [(o["output_type"], o.get("name"), o.get("text")) for o in nb.cells[1].outputs]
    assert kept == [
        ("stream", "stdout", "Spånga-Tensta 38000\n"),
        ("stream", "stderr", "varning\n"),
        ("stream", "stdout", "cwd /x\n"),
        ("display_data", None, None),
        ("stream", "stdout", "efter\n"),
    ]
    nbformat.validate(nb)
