"""Backends: each prints a cell's kernel plan for one target (a folder per backend)."""
