"""OpenVCR benchmarks: ``python -m bench`` (see ``bench.run``)."""
