"""The backend-neutral kernel plan: what a cell's kernels compute, as data."""
