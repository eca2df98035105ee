"""``python -m spikekit``: the same as the ``spikekit`` command."""

from spikekit.cli.main import main

main()
