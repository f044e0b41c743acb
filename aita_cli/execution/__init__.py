"""aita_cli.execution"""
