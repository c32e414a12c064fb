"""Use cases of the integration service and the ports they need."""
