"""aita_cli.pipelines"""
