"""Batch runs of the study notebooks (``insats run``): params files, kernels, reports, index.

Importing the package applies ``startup.skip_unused_imports`` (a second less at start, nothing
else changes; see that module).
"""

from insats.runner.startup import skip_unused_imports

skip_unused_imports()
