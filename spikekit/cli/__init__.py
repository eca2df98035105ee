"""The command line: one Typer sub-app per file, Rich only in :mod:`.console`."""
