"""spikekit.reference_platform."""
