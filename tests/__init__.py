"""Tests for aita."""
