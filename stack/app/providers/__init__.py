"""LLM providers: the simulator (default) and an OpenAI-compatible HTTP client."""
