"""Membership: organisations, applications, admission and standing."""
