"""s1eval: test-time scaling (budget forcing and its comparison methods) for lm-eval and Inspect."""

__version__ = "0.1.0"
