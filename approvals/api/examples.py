"""The data the API documentation's examples show for change requests (realistic, and checked against the schema)."""

# The change request the examples tell of: Checkout asks Payments to acknowledge a SEV1 on
# SLA-0001 within 15 minutes instead of 30, from the day Payments' second on-call starts.
EXAMPLE_PROPOSED_SLA = {
    "title": "Payments Gateway for checkout",
    "service": "payments-gateway",
    "provider_team": "payments",
    "consumer_teams": ["checkout", "checkout-product"],
    "status": "active",
    "effective_from": "2026-01-05T09:00:00Z",
    "review_cadence_days": 90,
    "executive_summary": (
        "Payments answers a SEV1 raised by Checkout quickly and restores payments **within 2 hours**, around the "
        "clock. 99.95 % of authorisations succeed over 28 days."
    ),
    "technical_annex": (
        "## Measurement\n\nSuccess ratio = authorisations answered ÷ authorisation attempts, from the gateway's "
        "metrics, in 1-minute buckets.\n\n## Exclusions\n\n- Maintenance announced five working days ahead in the "
        "release calendar.\n- Issuer declines and abandoned 3-D Secure challenges."
    ),
    "business_impact": "Each hour without payments loses about £42,000 of gross merchandise value at peak.",
    "objectives": [
        {
            "indicator": "Payment authorisations answered without a gateway error",
            "target": "99.95",
            "unit": "%",
            "window_days": 28,
            "dashboard_url": "https://grafana.example.com/d/payments-slo",
        },
        {
            "indicator": "Authorisation latency, p95",
            "target": "800",
            "unit": "ms",
            "window_days": 28,
            "dashboard_url": "https://grafana.example.com/d/payments-slo?viewPanel=4",
        },
    ],
    "response_targets": [
        {
            "severity": "SEV1",
            "category": None,
            "time_to_acknowledge_minutes": 15,
            "time_to_restore_minutes": 120,
            "time_to_resolve_minutes": 1440,
            "customer_update_interval_minutes": 30,
            "coverage": "24x7",
        },
        {
            "severity": "SEV2",
            "category": None,
            "time_to_acknowledge_minutes": 30,
            "time_to_restore_minutes": 240,
            "time_to_resolve_minutes": 4320,
            "customer_update_interval_minutes": 60,
            "coverage": "24x7",
        },
    ],
}
EXAMPLE_CHANGE_REQUEST = {
    "reference": "CR-0042",
    "document_kind": "sla",
    "document": "SLA-0001",
    "kind": "change",
    "state": "in_review",
    "summary": "SEV1 acknowledge 30 → 15 min",
    "rationale": "Checkout's on-call needs an answer sooner during peak: in PIR-0003 acknowledgement took 22 minutes.",
    "revision": 1,
    "base_version": 1,
    "content_hash": "121fafcb1a07f53805a0794f292cb9c4a032e76b3b9dc73f084c92b4cebb2f32",
    "effective_at": "2026-11-02T09:00:00Z",
    "effective_with": "",
    "author": "checkout.engineer",
    "created_at": "2026-10-19T13:02:44Z",
    "submitted_at": "2026-10-19T13:10:05Z",
    "applied_at": None,
    "url": "/changes/CR-0042/",
}
EXAMPLE_REQUIRED_APPROVALS = [
    {"team": "checkout", "reason": "consumer"},
    {"team": "checkout-product", "reason": "consumer"},
    {"team": "payments", "reason": "provider"},
    {"team": "sla-committee", "reason": "the SLA committee approves every change to an agreement"},
]
EXAMPLE_CHECKOUT_APPROVAL = {
    "team": "checkout",
    "verdict": "approve",
    "comment": "",
    "revision": 1,
    "decided_by": "checkout.approver",
    "decided_at": "2026-10-19T15:41:27Z",
    "counts": True,
}


def example_change_request_detail(**fields):
    """CR-0042 in review as ChangeRequestDetailSerializer gives it, with `fields` replaced (e.g. after an action)."""
    return {
        **EXAMPLE_CHANGE_REQUEST,
        "proposed": EXAMPLE_PROPOSED_SLA,
        "changes": ["SEV1 time to acknowledge: 30 min → 15 min"],
        "required_approvals": EXAMPLE_REQUIRED_APPROVALS,
        "decisions": [EXAMPLE_CHECKOUT_APPROVAL],
        **fields,
    }


def example_payments_decision(verdict, comment):
    """Payments' decision on CR-0042, as the request's decisions list shows it after Checkout's approval."""
    return {
        **EXAMPLE_CHECKOUT_APPROVAL,
        "team": "payments",
        "verdict": verdict,
        "comment": comment,
        "decided_by": "payments.approver",
        "decided_at": "2026-10-20T09:12:03Z",
    }
