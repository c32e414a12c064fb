"""The integration service's HTTP routes and event handlers."""
