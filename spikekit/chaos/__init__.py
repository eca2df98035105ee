"""spikekit.chaos."""
