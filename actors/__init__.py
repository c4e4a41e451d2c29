"""A small, generic actor runtime on anyio."""
