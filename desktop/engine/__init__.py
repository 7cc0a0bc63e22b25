"""Pure screening engine: pandas/numpy in, pandas/numpy out. No I/O, no clock, no Qt."""
