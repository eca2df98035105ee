"""spikekit.scenarios."""
