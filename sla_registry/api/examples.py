"""The data the API documentation's examples show for the registry (realistic, and checked against the schema)."""

from approvals.api.examples import EXAMPLE_PROPOSED_SLA

# The documents the examples tell of: SLA-0001 after CR-0042 tightened its SEV1 acknowledgement,
# and ESC-0001 after its SEV1 wait before the engineering manager was shortened.
SLA_EXAMPLE_DOCUMENT = EXAMPLE_PROPOSED_SLA  # what CR-0042 proposed is what SLA-0001 became
SLA_EXAMPLE_EARLIER = {
    "response_targets": [
        {**SLA_EXAMPLE_DOCUMENT["response_targets"][0], "time_to_acknowledge_minutes": 30},
        SLA_EXAMPLE_DOCUMENT["response_targets"][1],
    ]
}
MATRIX_EXAMPLE_DOCUMENT = {
    "title": "Payments Gateway escalation",
    "service": "payments-gateway",
    "owner_team": "payments",
    "status": "active",
    "effective_from": "2026-05-13T09:00:00Z",
    "review_cadence_days": 90,
    "notes": (
        "**Read first:** check both acquirers' status pages. Never retry captures by hand: duplicates become double "
        "charges.\n\n- Runbook: https://runbooks.basketly.example/payments-gateway"
    ),
    "steps": [
        {
            "severity": "SEV1",
            "level": 1,
            "wait_minutes": 15,
            "team": "payments",
            "contact": "Payments primary on-call",
            "channel": "page",
            "fallback_channel": "phone",
            "bring_timeline": True,
            "bring_affected_services": True,
            "bring_workarounds": False,
        },
        {
            "severity": "SEV1",
            "level": 2,
            "wait_minutes": 10,
            "team": "payments",
            "contact": "Payments engineering manager",
            "channel": "phone",
            "fallback_channel": "page",
            "bring_timeline": True,
            "bring_affected_services": True,
            "bring_workarounds": True,
        },
        {
            "severity": "SEV1",
            "level": 3,
            "wait_minutes": 30,
            "team": "platform",
            "contact": "Platform incident manager",
            "channel": "page",
            "fallback_channel": "phone",
            "bring_timeline": True,
            "bring_affected_services": True,
            "bring_workarounds": True,
        },
    ],
    "responsibilities": [
        {
            "duty": "customer_communication",
            "team": "customer-support",
            "when": "Status page within 15 minutes of a SEV1/SEV2, then every 30 minutes",
        },
        {"duty": "incident_commander", "team": "platform", "when": "SEV1: the Platform incident manager takes over"},
    ],
    "playbook": [
        {
            "title": "Contain",
            "instructions": "Route traffic to the failover acquirer with the `payments.acquirer.routing` flag.",
            "timebox_minutes": 30,
            "checkpoint_question": "Has the customer impact stopped growing?",
        }
    ],
}
MATRIX_EXAMPLE_EARLIER = {
    "steps": [
        MATRIX_EXAMPLE_DOCUMENT["steps"][0],
        {**MATRIX_EXAMPLE_DOCUMENT["steps"][1], "wait_minutes": 15},
        MATRIX_EXAMPLE_DOCUMENT["steps"][2],
    ]
}

OPENSLO_EXAMPLE = """\
---
apiVersion: openslo/v1
kind: Service
metadata:
  name: payments-gateway
  displayName: Payments Gateway
  annotations:
    sla-portal.example/service: payments-gateway
spec:
  description: Authorises, captures and voids card and wallet payments through a primary and a failover acquirer.
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: sla-0001-payment-authorisations-answered-without-a-gat-1b6f412e
  displayName: Payment authorisations answered without a gateway error
  annotations:
    sla-portal.example/sla: SLA-0001
    sla-portal.example/sla-title: Payments Gateway for checkout
    sla-portal.example/sla-url: https://sla.basketly.example/slas/SLA-0001/
    sla-portal.example/provider-team: payments
    sla-portal.example/consumer-teams: checkout,checkout-product
    sla-portal.example/response-targets: 'SEV1: acknowledge 15 min, restore 2 h, resolve 1 d, customer updates
      every 30 min, 24×7; SEV2: acknowledge 30 min, restore 4 h, resolve 3 d, customer updates every 1 h, 24×7'
    sla-portal.example/version: '2'
    sla-portal.example/unit: '%'
    sla-portal.example/dashboard-url: https://grafana.example.com/d/payments-slo
spec:
  description: 'Payment authorisations answered without a gateway error: 99.95% over 28 d (SLA-0001 Payments
    Gateway for checkout)'
  service: payments-gateway
  indicator:
    metadata:
      name: sla-0001-payment-authorisations-answered-without-a-gat-1b6f412e
      displayName: Payment authorisations answered without a gateway error
    spec:
      ratioMetric:
        counter: false
        good:
          metricSource:
            type: SLAPortal
            spec:
              sla: SLA-0001
              indicator: Payment authorisations answered without a gateway error
              events: good
        total:
          metricSource:
            type: SLAPortal
            spec:
              sla: SLA-0001
              indicator: Payment authorisations answered without a gateway error
              events: total
  timeWindow:
  - duration: 28d
    isRolling: true
  budgetingMethod: Occurrences
  objectives:
  - displayName: Payment authorisations answered without a gateway error
    target: 0.9995
"""
PAGERDUTY_EXAMPLE = {
    "escalation_policy": {
        "type": "escalation_policy",
        "name": "Payments Gateway SEV1 (ESC-0001)",
        "description": (
            "SEV1 escalation for Payments Gateway, from ESC-0001 “Payments Gateway escalation” in the SLA portal. "
            "Level 1: Payments (Payments primary on-call) by page, fallback phone; bring the timeline, the affected "
            "services; escalates after 15 min. Level 2: Payments (Payments engineering manager) by phone, fallback "
            "page; bring the timeline, the affected services, known workarounds; escalates after 10 min. Level 3: "
            "Platform (Platform incident manager) by page, fallback phone; bring the timeline, the affected services, "
            "known workarounds; escalates after 30 min."
        ),
        "num_loops": 0,
        "on_call_handoff_notifications": "if_has_services",
        "escalation_rules": [
            {
                "escalation_delay_in_minutes": 15,
                "targets": [
                    {
                        "id": "pd-payments-primary",
                        "type": "schedule_reference",
                        "summary": "Payments (Payments primary on-call) by page, fallback phone",
                    }
                ],
            },
            {
                "escalation_delay_in_minutes": 10,
                "targets": [
                    {
                        "id": "pd-payments-primary",
                        "type": "schedule_reference",
                        "summary": "Payments (Payments engineering manager) by phone, fallback page",
                    }
                ],
            },
            {
                "escalation_delay_in_minutes": 30,
                "targets": [
                    {
                        "id": "pd-platform-primary",
                        "type": "schedule_reference",
                        "summary": "Platform (Platform incident manager) by page, fallback phone",
                    }
                ],
            },
        ],
    }
}
