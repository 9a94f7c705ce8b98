"""slokit: SLOs as code for LLM applications."""

__version__ = "0.1.0"
