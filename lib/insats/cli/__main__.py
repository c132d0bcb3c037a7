"""``python -m insats.cli``: the same as the ``insats`` command."""

from insats.cli import program

program()
