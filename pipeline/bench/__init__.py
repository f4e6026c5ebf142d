"""Measuring, not needed to process documents: `vanban bench` (throughput), the store's
query benchmark (`python -m pipeline.bench.store`) and the synthetic corpus both use (synth)."""
