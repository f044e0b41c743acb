"""aita_cli.cli"""
