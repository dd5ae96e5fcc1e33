"""dbctl: administer a LiteLLM proxy's PostgreSQL database directly, with no proxy, Node or network."""

__version__ = "0.1.0"
