"""The auth use cases and the interfaces they need from storage."""
