"""Core arithmetic: names, per-axis sizes and the analytic spec (pure Python)."""
