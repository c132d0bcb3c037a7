"""``python -m insats.cli``: the same as the ``insats`` command."""

import sys

from insats.cli import main

sys.exit(main())
