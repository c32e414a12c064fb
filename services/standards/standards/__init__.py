"""Standards: alliance standards drafting, from proposal to publication."""
