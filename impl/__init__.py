"""ringspec reference implementation (vectorized numpy): netmap core, later the ENA
driver and device.  Layout and rules: README.md and the model docstrings."""
