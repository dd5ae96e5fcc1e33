"""LiteLLM 1.110's spend-log outbox (`LiteLLM_SpendLogDelivery`): its backlog, and parked deliveries
handed back to the proxy's worker."""
