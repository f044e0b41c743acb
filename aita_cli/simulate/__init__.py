"""Tools that speak the model protocol without being providers.

`aita simulate`'s loopback server (`server`, `handlers`) and its model-like replies
(`synthesis`), and the in-memory scripted client (`scripted`) that tests and benchmarks
run the engine against. Nothing in aita's pipelines imports this package; it imports
`aita_cli.llm` (messages, tokens, task kinds, the offline templates), never the reverse.
"""
