"""ringspec: a z3-checked model and a vectorized reference implementation of netmap rings."""
