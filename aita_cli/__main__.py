"""`python -m aita_cli` runs the command line."""

from aita_cli.cli.app import main

main()
