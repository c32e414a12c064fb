"""The Alliance Platform on one machine, as processes (there is no Docker engine here)."""
