"""The JavaScript backend: the explorer's forward and backward steps for the browser."""
