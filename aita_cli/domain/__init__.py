"""aita_cli.domain"""
