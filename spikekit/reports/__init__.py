"""spikekit.reports."""
