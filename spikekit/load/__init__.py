"""spikekit.load."""
