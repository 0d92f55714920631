"""The data the API documentation's examples show for reviews (realistic, and checked against the schema)."""

# The review the examples tell of: PIR-0003 as published, then corrected by CR-0045 once billing
# had counted the customers affected.
REVIEW_EXAMPLE_DOCUMENT = {
    "title": "Card payments failed while the primary acquirer was down",
    "severity": "SEV1",
    "category": "third-party",
    "services": ["checkout-api", "payments-gateway"],
    "journeys": ["check-out-and-pay"],
    "is_drill": False,
    "drill_kind": "",
    "is_restricted": False,
    "restricted_to": [],
    "started_at": "2026-07-12T19:04:00Z",
    "detected_at": "2026-07-12T19:08:00Z",
    "acknowledged_at": "2026-07-12T19:30:00Z",
    "restored_at": "2026-07-12T20:56:00Z",
    "resolved_at": "2026-07-13T19:04:00Z",
    "summary": (
        "Our primary acquirer had a partial outage during the evening peak. Authorisations through it timed out "
        "after 30 s until Payments routed traffic to the failover acquirer by hand."
    ),
    "customer_impact": "About **38 %** of card payments failed for 108 minutes at peak; wallet payments worked.",
    "trigger": "The acquirer's authorisation endpoint timed out for four in ten requests after a network change.",
    "root_causes": "- Failover to the second acquirer is a manual flag.\n- The gateway waits 30 s for an answer.",
    "contributing_factors": "- The acquirer's status page stayed green for the first 50 minutes.",
    "detection": "The SLO burn-rate alert fired 4 minutes after the timeouts started.",
    "resolution": "Payments switched `payments.acquirer.routing` to the failover acquirer and retried the queue.",
    "went_well": "- The failover acquirer took the whole load without errors.",
    "went_wrong": "- Acknowledgement took 22 minutes against the SLA's 15.",
    "got_lucky": "- The outage began after the evening's marketing email had gone out, not before.",
    "links": "https://grafana.example.com/d/payments-slo",
    "customers_affected": 9400,
    "support_contacts": 1130,
    "status": "published",
    "timeline": [
        {
            "at": "2026-07-12T19:04:00Z",
            "entry": "Acquirer timeouts start: 38 % of authorisations wait 30 s and fail.",
            "kind": "trigger",
        },
        {
            "at": "2026-07-12T19:08:00Z",
            "entry": "Payments SLO burn-rate alert fires; primary on-call paged.",
            "kind": "detection",
        },
        {
            "at": "2026-07-12T19:30:00Z",
            "entry": "Secondary on-call acknowledges and declares a SEV1 in #incidents.",
            "kind": "escalation",
        },
        {
            "at": "2026-07-12T20:56:00Z",
            "entry": "Traffic on the failover acquirer; approval rate back to normal.",
            "kind": "resolution",
        },
    ],
    "action_items": [
        {
            "title": "Alert on timeouts per acquirer, separate from issuer declines",
            "kind": "detect",
            "owner_team": "payments",
            "assignee": "payments.engineer",
            "due_date": "2026-08-09",
            "priority": "medium",
            "link": "https://tickets.basketly.example/browse/PAY-1414",
        },
        {
            "title": "Fail over to the second acquirer automatically when one acquirer's timeouts pass 10 %",
            "kind": "prevent",
            "owner_team": "payments",
            "assignee": "payments.engineer",
            "due_date": "2026-08-11",
            "priority": "high",
            "link": "https://tickets.basketly.example/browse/PAY-1412",
        },
    ],
}
REVIEW_EXAMPLE_EARLIER = {"customers_affected": 8700}
