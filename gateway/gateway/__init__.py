"""The API gateway: one entry for every client of the Alliance Platform."""
