"""Formats people already use, in and out of the registry: OpenSLO documents
(openslo), PagerDuty escalation policies (pagerduty) and Backstage catalog files
(backstage). Each module is pure conversion plus one write path through the
registry's actions or the approval engine, so the management commands and the
REST API share it."""
