"""Is it right and fast: analytic models, verification against them, the benchmark."""
