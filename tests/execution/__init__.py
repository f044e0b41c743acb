"""Tests for the execution engine."""
