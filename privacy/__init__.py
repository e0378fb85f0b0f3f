"""Retention and erasure across every store that holds a learner's words: the tracker store, the
handoffs, the analytics (`python -m privacy purge|erase`). It sits above `core`, `catalog` and
`analytics`, which it reaches; no server imports it."""
