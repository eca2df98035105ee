"""The players' API (stateless; any number of replicas)."""
