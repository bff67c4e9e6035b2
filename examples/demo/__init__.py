"""The demo: a synthetic reasoning task, curated, trained on and evaluated with every control method.

`python -m examples.demo --out results/demo` (what `make demo` runs) writes results/demo/; `examples.demo.pipeline.prepare` returns the
trained models and the test problems for studies that want to run their own sweeps on them.
"""
