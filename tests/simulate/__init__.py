"""Tests of aita_cli.simulate."""
