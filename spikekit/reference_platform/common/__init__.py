"""What every service of the reference platform shares: health, metrics, dependency checks."""
