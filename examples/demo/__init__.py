"""The demo: a synthetic reasoning task, curated, trained on and evaluated with every control method.

`python -m examples.demo` (or `make demo`) writes results/demo/; `examples.demo.pipeline.prepare` returns the
trained models and the test problems for studies that want to run their own sweeps on them.
"""
