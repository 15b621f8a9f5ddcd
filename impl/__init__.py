"""ringspec reference implementation (vectorized numpy): netmap core, later the ENA
driver and device.  See shared/DESIGN.md "The implementation"."""
