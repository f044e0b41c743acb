"""aita_cli.llm"""
