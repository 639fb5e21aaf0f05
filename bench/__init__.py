"""Benchmarks for persona-bot: start-up, latency, throughput, memory and accuracy against baselines.

Run with `python -m bench.run`; see bench/RESULTS.md for the latest figures.
"""
