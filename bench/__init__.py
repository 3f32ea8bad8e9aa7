"""Benchmarks: SONAR against peers measured in the same run."""
