"""Benchmarks for aita."""
