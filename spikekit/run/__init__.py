"""One spike run end to end: platform, load, chaos and telemetry on one clock, then the
analysis and every output (see DESIGN.md, "The flow of one run")."""
