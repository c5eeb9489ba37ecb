"""The documentation side: LaTeX derivation pages, cell diagrams, the worked example, figures."""
