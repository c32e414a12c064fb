"""The integration service: what the alliance tells government agencies, all from one event archive."""
