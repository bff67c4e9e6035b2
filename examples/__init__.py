"""Examples that use s1eval as a user would; `demo/` is what `make demo` runs."""
