"""Benchmarks of city311. Run from the repository root: ``.venv/bin/python bench/<name>.py``."""
