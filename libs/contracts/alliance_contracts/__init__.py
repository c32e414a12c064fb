"""The published facts of each service: one pydantic model per event type and version.

Producers and consumers both import these models; services never import each other.
Change a schema additively (new optional fields); anything else is a new ``.vN`` type.
"""

from alliance_contracts import integration, licensing, membership, standards, training

__all__ = ["integration", "licensing", "membership", "standards", "training"]
