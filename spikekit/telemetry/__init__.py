"""spikekit.telemetry."""
