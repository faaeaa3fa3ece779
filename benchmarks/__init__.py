"""Benchmarks: ``make bench``. Figures are measured, reported and never asserted."""
