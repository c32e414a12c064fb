"""The integration service's domain: plain Python, no I/O."""
