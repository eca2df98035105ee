"""What is recorded during a run: every service's metrics and every stack process, each second."""
