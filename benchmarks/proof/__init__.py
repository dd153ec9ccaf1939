"""The proof runs of issue 8: the example site under uvicorn, real clients, and the checks afterwards.

``site`` starts the example site (uvicorn, several workers) on a policy of its own; ``media`` makes
unique real files; ``clients`` drives people, browsers and scrapers; ``checks`` compares what the
clients were told with the ledger and the temp folder. ``benchmarks/e2e_load.py``,
``benchmarks/faults.py`` and ``tests/proof`` are built from these parts.
"""
