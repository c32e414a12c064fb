"""Licensing: patents, pool programmes, licences and royalties."""
