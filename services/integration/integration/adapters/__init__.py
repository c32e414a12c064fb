"""The integration service's adapters: the store, Kafka, HTTP out."""
