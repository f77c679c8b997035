"""Boards and reports: pure functions of stored results (leaderboards per run and across
datasets, exports, plots, critical-difference diagrams, status)."""
