"""Tests of aita_cli.llm."""
