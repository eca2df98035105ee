"""spikekit.analysis."""
