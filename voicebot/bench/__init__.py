"""Benchmarks behind `voicebot bench …`: they print numbers and are never imported by production code."""
