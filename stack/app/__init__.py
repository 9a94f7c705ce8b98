"""Demo instrumented LLM application (see README)."""
