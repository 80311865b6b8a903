"""Governance over policies and their logs: who talks to whom (`graph`), how decisions
fare (`audit`), and what a new policy version would change (`replay`).

The logic lives here, free of the command line, so it can be called from code and
tested on logs directly; `accord/commands/` holds the thin typer shells.
"""
