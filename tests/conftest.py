"""Shared pytest configuration."""

# Notebooks under tests/fixtures are inputs of the batch-runner tests (one fails on purpose,
# one sleeps past its timeout); nbval must not collect them as tests of their own.
collect_ignore_glob = ["fixtures/*"]
