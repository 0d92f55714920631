"""The registry's pages, one module per area: registry (teams, services, journeys, taxonomy),
documents (SLAs and escalation matrices), common (what they share)."""
