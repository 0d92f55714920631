"""The demo organisation: Basketly, an online marketplace that runs its own payments.

Plain definitions only (teams, services, journeys, taxonomy, SLAs, escalation
matrices, demo logins); `demo.registry_seeding` writes them through the
registry's actions. Objects refer to each other by slug or key, so the whole
organisation reads top to bottom like a description of the company.

Dates are given in days before the day of seeding, so a fresh demo always has
agreements in force, reviews done recently and one or two reviews overdue.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from sla_registry.choices import Channel, Coverage, Duty, ServiceTier, TeamKind

DEMO_PASSWORD = "demo-password"
DEMO_REASON = "Demo data"
EMAIL_DOMAIN = "basketly.example"
ADMIN_USERNAME = "admin"
SYNTHETIC_UNITS_PER_SIZE = 10


def minutes(value):
    return timedelta(minutes=value)


def hours(value):
    return timedelta(hours=value)


def days(value):
    return timedelta(days=value)


# Specifications -------------------------------------------------------------


@dataclass(frozen=True)
class TeamSpec:
    name: str
    slug: str
    kind: str
    description: str
    primary_channel: str
    fallback_channel: str
    is_sla_committee: bool = False

    @property
    def chat_channel(self):
        return f"#{self.slug}-oncall"

    @property
    def email(self):
        return f"{self.slug}@{EMAIL_DOMAIN}"

    @property
    def pager_handle(self):
        return f"pd-{self.slug}-primary"


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    slug: str
    owner: str
    tier: str
    description: str
    dependencies: tuple[str, ...] = ()


@dataclass(frozen=True)
class JourneySpec:
    name: str
    slug: str
    description: str
    business_impact: str
    services: tuple[str, ...]


@dataclass(frozen=True)
class SeveritySpec:
    key: str
    name: str
    rank: int
    customer_impact: str


@dataclass(frozen=True)
class CategorySpec:
    name: str
    slug: str
    description: str


@dataclass(frozen=True)
class ObjectiveSpec:
    indicator: str
    target: Decimal
    unit: str
    window: timedelta
    dashboard_url: str


@dataclass(frozen=True)
class ResponseTargetSpec:
    severity: str
    acknowledge: timedelta
    restore: timedelta
    resolve: timedelta
    customer_update_interval: timedelta | None
    coverage: str = Coverage.ALWAYS
    category: str | None = None


@dataclass(frozen=True)
class SlaSpec:
    title: str
    service: str
    provider: str
    consumers: tuple[str, ...]
    objectives: tuple[ObjectiveSpec, ...]
    response_targets: tuple[ResponseTargetSpec, ...]
    executive_summary: str
    technical_annex: str
    business_impact: str
    effective_days_ago: int
    reviewed_days_ago: int


@dataclass(frozen=True)
class EscalationStepSpec:
    severity: str
    level: int
    wait: timedelta
    team: str
    contact: str
    channel: str
    fallback_channel: str
    bring_timeline: bool = True
    bring_affected_services: bool = True
    bring_workarounds: bool = False


@dataclass(frozen=True)
class ResponsibilitySpec:
    duty: str
    team: str
    when: str


@dataclass(frozen=True)
class PlaybookStepSpec:
    title: str
    instructions: str
    timebox_minutes: int
    checkpoint_question: str


@dataclass(frozen=True)
class MatrixSpec:
    title: str
    service: str
    owner: str
    notes: str
    steps: tuple[EscalationStepSpec, ...]
    responsibilities: tuple[ResponsibilitySpec, ...]
    playbook: tuple[PlaybookStepSpec, ...]
    effective_days_ago: int
    reviewed_days_ago: int


@dataclass(frozen=True)
class DemoUserSpec:
    username: str
    first_name: str
    last_name: str
    team: str
    role: str
    approver: bool = False
    is_staff: bool = False

    @property
    def email(self):
        return f"{self.username}@{EMAIL_DOMAIN}"


@dataclass(frozen=True)
class SyntheticUnit:
    """One block of benchmark data: a team, the service it runs, its SLA and, for critical services, a matrix."""

    team: TeamSpec
    service: ServiceSpec
    sla: SlaSpec
    matrix: MatrixSpec | None = field(default=None)


# Teams ----------------------------------------------------------------------

PLATFORM = "platform"
LEADERSHIP = "executive-leadership"
SUPPORT = "customer-support"
COMMITTEE = "sla-committee"

TEAMS = (
    TeamSpec(
        "Checkout Product",
        "checkout-product",
        TeamKind.PRODUCT,
        "Product managers and designers who own the buying experience end to end: basket, checkout, "
        "payment options and order confirmation. Consumers of every agreement on the checkout path.",
        Channel.CHAT,
        Channel.EMAIL,
    ),
    TeamSpec(
        "Payments",
        "payments",
        TeamKind.ENGINEERING,
        "Runs card and wallet payments, fraud scoring and refunds. Owns the relationship with both "
        "acquirers and keeps Basketly inside PCI DSS scope.",
        Channel.PAGE,
        Channel.PHONE,
    ),
    TeamSpec(
        "Checkout",
        "checkout",
        TeamKind.ENGINEERING,
        "Builds and runs the basket and the Checkout API that web and mobile clients call to place orders.",
        Channel.PAGE,
        Channel.PHONE,
    ),
    TeamSpec(
        "Identity",
        "identity",
        TeamKind.ENGINEERING,
        "Sign-up, login, sessions, multi-factor authentication and service-to-service tokens.",
        Channel.PAGE,
        Channel.CHAT,
    ),
    TeamSpec(
        "Search & Catalogue",
        "search-catalogue",
        TeamKind.ENGINEERING,
        "The product catalogue (4 million listings from Basketly and marketplace sellers), search and recommendations.",
        Channel.PAGE,
        Channel.CHAT,
    ),
    TeamSpec(
        "Notifications",
        "notifications",
        TeamKind.ENGINEERING,
        "Transactional email, SMS and push: order confirmations, one-time passcodes, delivery updates, "
        "plus the marketing email pipeline.",
        Channel.PAGE,
        Channel.EMAIL,
    ),
    TeamSpec(
        "Orders & Fulfilment",
        "orders-fulfilment",
        TeamKind.ENGINEERING,
        "Stock, reservations and the order lifecycle from placement to delivery across three warehouses "
        "and marketplace sellers.",
        Channel.PAGE,
        Channel.PHONE,
    ),
    TeamSpec(
        "Platform",
        PLATFORM,
        TeamKind.OPERATIONS,
        "Site reliability and infrastructure: Kubernetes, PostgreSQL, the API gateway, the event bus and "
        "observability. Provides the incident manager rota for SEV1s.",
        Channel.PAGE,
        Channel.PHONE,
    ),
    TeamSpec(
        "Security",
        "security",
        TeamKind.SECURITY,
        "Security engineering and the security operations centre: secrets, detection, incident response "
        "and PCI DSS compliance.",
        Channel.PAGE,
        Channel.PHONE,
    ),
    TeamSpec(
        "Customer Support",
        SUPPORT,
        TeamKind.CUSTOMER_SUPPORT,
        "Customer care in three time zones: help centre, chat and phone. Owns the public status page and "
        "every customer-facing update during an incident.",
        Channel.CHAT,
        Channel.EMAIL,
    ),
    TeamSpec(
        "Executive Leadership",
        LEADERSHIP,
        TeamKind.LEADERSHIP,
        "CEO, CTO, COO and VP Engineering. Told about every SEV1 and decides on customer compensation "
        "and regulator notification.",
        Channel.PHONE,
        Channel.EMAIL,
    ),
    TeamSpec(
        "SLA Committee",
        COMMITTEE,
        TeamKind.GOVERNANCE,
        "Engineering, product and support representatives who approve every change to an SLA or an "
        "escalation matrix and run the quarterly review.",
        Channel.EMAIL,
        Channel.CHAT,
        is_sla_committee=True,
    ),
)


# Services, in dependency order -----------------------------------------------

SERVICES = (
    ServiceSpec(
        "Kubernetes Platform",
        "kubernetes-platform",
        PLATFORM,
        ServiceTier.CRITICAL,
        "The production Kubernetes clusters (two regions, three availability zones each) that run every "
        "stateless service, with ingress, the service mesh and autoscaling.",
    ),
    ServiceSpec(
        "PostgreSQL Cluster",
        "postgresql-cluster",
        PLATFORM,
        ServiceTier.CRITICAL,
        "Managed PostgreSQL 16 on dedicated hosts: a synchronous replica per region, point-in-time recovery "
        "with five-minute WAL shipping, PgBouncer pooling. Holds the payments, orders, identity and "
        "catalogue databases.",
    ),
    ServiceSpec(
        "API Gateway",
        "api-gateway",
        PLATFORM,
        ServiceTier.CRITICAL,
        "The public edge: TLS termination, routing, rate limiting and bot protection for the web shop, the "
        "iOS and Android apps and the partner API.",
        ("kubernetes-platform",),
    ),
    ServiceSpec(
        "Event Bus",
        "event-bus",
        PLATFORM,
        ServiceTier.HIGH,
        "Kafka: order, payment and stock events between services; seven days of retention.",
        ("kubernetes-platform",),
    ),
    ServiceSpec(
        "Observability Stack",
        "observability-stack",
        PLATFORM,
        ServiceTier.HIGH,
        "Prometheus, Loki, Tempo, Grafana and Alertmanager: the SLO dashboards and every page sent to on-call.",
        ("kubernetes-platform",),
    ),
    ServiceSpec(
        "Secrets Vault",
        "secrets-vault",
        "security",
        ServiceTier.HIGH,
        "HashiCorp Vault: database credentials, API keys and the card-tokenisation keys (in an HSM-backed namespace).",
        ("kubernetes-platform",),
    ),
    ServiceSpec(
        "Notification Service",
        "notification-service",
        "notifications",
        ServiceTier.HIGH,
        "Sends transactional email, SMS and push through two email providers and one SMS aggregator, with "
        "templates, retries and per-customer preferences.",
        ("kubernetes-platform", "event-bus"),
    ),
    ServiceSpec(
        "Identity Service",
        "identity-service",
        "identity",
        ServiceTier.CRITICAL,
        "Sign-up, login, sessions, multi-factor authentication (SMS and authenticator apps) and OAuth tokens "
        "for customers, sellers and internal services.",
        ("kubernetes-platform", "postgresql-cluster", "secrets-vault", "notification-service"),
    ),
    ServiceSpec(
        "Fraud Scoring",
        "fraud-scoring",
        "payments",
        ServiceTier.HIGH,
        "Scores every payment attempt and account change in real time; blocks, or steps up to 3-D Secure, "
        "above the risk thresholds.",
        ("kubernetes-platform", "postgresql-cluster", "event-bus"),
    ),
    ServiceSpec(
        "Payments Gateway",
        "payments-gateway",
        "payments",
        ServiceTier.CRITICAL,
        "Authorises, captures and voids card and wallet payments through a primary and a failover acquirer; "
        "tokenises cards so that no other service touches card numbers.",
        (
            "kubernetes-platform",
            "postgresql-cluster",
            "identity-service",
            "secrets-vault",
            "fraud-scoring",
            "event-bus",
        ),
    ),
    ServiceSpec(
        "Refunds Service",
        "refunds-service",
        "payments",
        ServiceTier.HIGH,
        "Issues full and partial refunds to the original payment method and reconciles them with the "
        "acquirers' daily settlement files.",
        ("payments-gateway", "postgresql-cluster", "event-bus"),
    ),
    ServiceSpec(
        "Inventory Service",
        "inventory-service",
        "orders-fulfilment",
        ServiceTier.CRITICAL,
        "Real-time stock levels across three warehouses and marketplace sellers; reserves stock for "
        "15 minutes when a customer starts checkout.",
        ("kubernetes-platform", "postgresql-cluster", "event-bus"),
    ),
    ServiceSpec(
        "Order Management",
        "order-management",
        "orders-fulfilment",
        ServiceTier.HIGH,
        "The order lifecycle: warehouse picking, carrier hand-off, tracking, cancellations and returns.",
        ("kubernetes-platform", "postgresql-cluster", "event-bus", "inventory-service"),
    ),
    ServiceSpec(
        "Product Catalogue",
        "product-catalogue",
        "search-catalogue",
        ServiceTier.HIGH,
        "Listings, prices, images and seller data; the source of truth that search and the basket read.",
        ("kubernetes-platform", "postgresql-cluster"),
    ),
    ServiceSpec(
        "Search API",
        "search-api",
        "search-catalogue",
        ServiceTier.HIGH,
        "Full-text and faceted product search on OpenSearch, autocomplete and ranking, filtered by stock.",
        ("kubernetes-platform", "product-catalogue", "inventory-service"),
    ),
    ServiceSpec(
        "Recommendations",
        "recommendations",
        "search-catalogue",
        ServiceTier.STANDARD,
        "'Customers also bought' and personalised home-page rails, computed nightly and served from cache.",
        ("search-api", "product-catalogue", "event-bus"),
    ),
    ServiceSpec(
        "Basket Service",
        "basket-service",
        "checkout",
        ServiceTier.HIGH,
        "Keeps customers' baskets across devices, applies promotions and shows live prices.",
        ("kubernetes-platform", "postgresql-cluster", "product-catalogue"),
    ),
    ServiceSpec(
        "Checkout API",
        "checkout-api",
        "checkout",
        ServiceTier.CRITICAL,
        "Turns a basket into an order: address and delivery options, stock reservation, payment and the "
        "order confirmation. Called by the web shop and both apps.",
        (
            "kubernetes-platform",
            "postgresql-cluster",
            "api-gateway",
            "identity-service",
            "payments-gateway",
            "inventory-service",
            "basket-service",
            "order-management",
        ),
    ),
    ServiceSpec(
        "Marketing Email",
        "marketing-email",
        "notifications",
        ServiceTier.STANDARD,
        "Newsletters and campaign email to consenting customers, with audience lists and unsubscribe handling.",
        ("notification-service",),
    ),
    ServiceSpec(
        "Support Desk",
        "support-desk",
        SUPPORT,
        ServiceTier.STANDARD,
        "The help centre, customer chat and ticketing, with agents' tools to look up orders and request refunds.",
        ("identity-service", "order-management", "refunds-service"),
    ),
    ServiceSpec(
        "Status Page",
        "status-page",
        SUPPORT,
        ServiceTier.STANDARD,
        "status.basketly.example and its email and SMS subscriptions; hosted outside our own infrastructure "
        "so it stays up when we are down.",
    ),
)


# Customer journeys ----------------------------------------------------------------

JOURNEYS = (
    JourneySpec(
        "Sign up and log in",
        "sign-up-and-log-in",
        "A new customer creates an account and verifies their phone number; a returning customer logs in, "
        "with a one-time passcode when the device is new.",
        "About 9,000 sign-ups a day and every returning purchase start here. When it is broken, new customers "
        "go elsewhere and logged-out customers cannot reach their orders, so support contacts triple.",
        ("api-gateway", "identity-service", "notification-service"),
    ),
    JourneySpec(
        "Browse and search",
        "browse-and-search",
        "A customer searches or browses categories, filters by price and delivery date, and opens product pages.",
        "Seven in ten orders start with a search. A broken or slow search costs roughly £18,000 of gross "
        "merchandise value an hour at peak and pushes paid traffic to competitors.",
        ("api-gateway", "search-api", "product-catalogue", "inventory-service", "recommendations"),
    ),
    JourneySpec(
        "Check out and pay",
        "check-out-and-pay",
        "A customer reviews the basket, chooses delivery, pays by card or wallet (with 3-D Secure when asked) "
        "and receives the order confirmation.",
        "Every order passes through here: about £42,000 of gross merchandise value an hour at peak. Failed or "
        "double charges also create chargebacks, scheme fines and regulator questions.",
        (
            "api-gateway",
            "basket-service",
            "checkout-api",
            "identity-service",
            "payments-gateway",
            "fraud-scoring",
            "inventory-service",
            "order-management",
            "notification-service",
        ),
    ),
    JourneySpec(
        "Request a refund",
        "request-a-refund",
        "A customer returns an item or cancels an order and gets their money back on the original payment method.",
        "Refunds are a legal obligation with deadlines (14 days under the Consumer Contracts Regulations). "
        "Late refunds turn into chargebacks, complaints to the card schemes and one-star reviews.",
        ("support-desk", "order-management", "refunds-service", "payments-gateway", "notification-service"),
    ),
    JourneySpec(
        "Track an order",
        "track-an-order",
        "A customer follows an order from dispatch to delivery and is told when the courier is near.",
        "'Where is my order?' is the top reason customers contact support; when tracking is broken, contact "
        "volume doubles within two hours.",
        ("identity-service", "order-management", "notification-service"),
    ),
)


# Incident taxonomy -------------------------------------------------------------------

SEVERITIES = (
    SeveritySpec(
        "SEV1",
        "Critical",
        1,
        "A core journey (sign-up, search, checkout, payment, refund) is down or failing for more than 5 % of "
        "customers; or money is at risk (double charges, lost or unreconciled payments); or customer data is "
        "exposed. Page immediately, 24×7; an incident commander is named at once and leadership is told.",
    ),
    SeveritySpec(
        "SEV2",
        "Major",
        2,
        "A core journey is badly degraded (errors for 1–5 % of customers, or p95 latency more than three times "
        "normal), or an important feature (fraud scoring, order tracking, OTP delivery) is down without a "
        "workaround. Page the owning team, 24×7.",
    ),
    SeveritySpec(
        "SEV3",
        "Minor",
        3,
        "A non-core feature is broken, or a core feature is degraded for a small group of customers (one "
        "payment method, one region, one seller) and a workaround exists. Handled within business hours.",
    ),
    SeveritySpec(
        "SEV4",
        "Low",
        4,
        "Cosmetic defects, internal tooling issues or a risk that has not yet hurt customers. No measurable "
        "customer impact; goes to the owning team's backlog.",
    ),
)

CATEGORIES = (
    CategorySpec(
        "Availability",
        "availability",
        "The service or a feature is unreachable or returns errors.",
    ),
    CategorySpec(
        "Performance",
        "performance",
        "The service works but too slowly for customers, or times out under normal load.",
    ),
    CategorySpec(
        "Data integrity",
        "data-integrity",
        "Wrong, lost, duplicated or inconsistent data: double charges, phantom stock, orders without payments.",
    ),
    CategorySpec(
        "Security",
        "security",
        "Confidentiality, integrity or availability threatened by an attacker or a leak; follows the security "
        "incident procedure as well.",
    ),
    CategorySpec(
        "Third party",
        "third-party",
        "Caused by a supplier outside Basketly: acquirers, SMS and email providers, carriers, the cloud provider.",
    ),
    CategorySpec(
        "Capacity",
        "capacity",
        "Load beyond what the service was sized for: sales peaks, bot traffic, runaway jobs, full disks.",
    ),
)


# Service level agreements ---------------------------------------------------------------

GRAFANA = "https://grafana.example.com/d"


def _objective(indicator, target, unit, window_days, dashboard):
    return ObjectiveSpec(indicator, Decimal(target), unit, days(window_days), f"{GRAFANA}/{dashboard}")


def critical_response_targets():
    """For critical services: SEV1/SEV2 around the clock, SEV3/SEV4 in business hours."""
    return (
        ResponseTargetSpec("SEV1", minutes(15), hours(2), days(1), minutes(30)),
        ResponseTargetSpec("SEV2", minutes(30), hours(4), days(3), hours(1)),
        ResponseTargetSpec("SEV3", hours(4), days(1), days(10), days(1), Coverage.BUSINESS_HOURS),
        ResponseTargetSpec("SEV4", days(1), days(5), days(30), None, Coverage.BUSINESS_HOURS),
    )


def high_response_targets():
    """For high and standard services: a little more time, the same shape."""
    return (
        ResponseTargetSpec("SEV1", minutes(30), hours(4), days(2), hours(1)),
        ResponseTargetSpec("SEV2", hours(1), hours(8), days(5), hours(2)),
        ResponseTargetSpec("SEV3", days(1), days(3), days(15), None, Coverage.BUSINESS_HOURS),
        ResponseTargetSpec("SEV4", days(2), days(10), days(30), None, Coverage.BUSINESS_HOURS),
    )


def platform_response_targets():
    """Platform services sit under everything, so SEV1 is answered faster and SEV3 still around the clock."""
    return (
        ResponseTargetSpec("SEV1", minutes(10), hours(1), days(1), minutes(30)),
        ResponseTargetSpec("SEV2", minutes(20), hours(3), days(2), hours(1)),
        ResponseTargetSpec("SEV3", hours(2), hours(12), days(7), None),
        ResponseTargetSpec("SEV4", days(1), days(5), days(30), None, Coverage.BUSINESS_HOURS),
    )


def _format_target(objective):
    target = objective.target.normalize()
    return f"{target:f} %" if objective.unit == "%" else f"{target:f} {objective.unit}"


def technical_annex(objectives, measurement, exclusions, contacts):
    """The annex of an SLA: its objectives as a table, then how they are measured and what does not count."""
    rows = "\n".join(
        f"| {objective.indicator} | {_format_target(objective)} | {objective.window.days} days "
        f"| [dashboard]({objective.dashboard_url}) |"
        for objective in objectives
    )
    excluded = "\n".join(f"- {item}" for item in exclusions)
    return (
        "## Objectives\n\n"
        "| Indicator | Target | Window | Measured on |\n"
        "|---|---|---|---|\n"
        f"{rows}\n\n"
        f"## Measurement\n\n{measurement}\n\n"
        f"## Exclusions\n\n{excluded}\n\n"
        f"## Contacts\n\n{contacts}\n"
    )


_STANDARD_EXCLUSIONS = (
    "Maintenance announced at least five working days ahead in the release calendar (at most 4 hours a month, "
    "never between 18:00 and 23:00 UK time or in a freeze window).",
    "Requests rejected because the consumer exceeded its agreed rate limit.",
)


def _sla(title, service, provider, consumers, objectives, targets, summary, measurement, exclusions, contacts, **rest):
    return SlaSpec(
        title=title,
        service=service,
        provider=provider,
        consumers=consumers,
        objectives=objectives,
        response_targets=targets,
        executive_summary=summary,
        technical_annex=technical_annex(objectives, measurement, exclusions, contacts),
        **rest,
    )


_PAYMENTS_OBJECTIVES = (
    _objective("Payment authorisations answered without a gateway error", "99.95", "%", 28, "payments-slo"),
    _objective("Authorisation latency, p95", "800", "ms", 28, "payments-slo?viewPanel=4"),
    _objective("Captures settled with the acquirer by the next day", "99.9", "%", 30, "payments-settlement"),
)
_CHECKOUT_OBJECTIVES = (
    _objective("Checkout requests that succeed", "99.95", "%", 28, "checkout-api-slo"),
    _objective("Place-order latency, p95", "1200", "ms", 28, "checkout-api-slo?viewPanel=3"),
)
_IDENTITY_OBJECTIVES = (
    _objective("Login and token requests that succeed", "99.95", "%", 28, "identity-slo"),
    _objective("Token issuance latency, p95", "250", "ms", 28, "identity-slo?viewPanel=2"),
    _objective("One-time passcodes delivered within 60 s", "98", "%", 28, "identity-otp"),
)
_KUBERNETES_OBJECTIVES = (
    _objective("Kubernetes API availability", "99.95", "%", 30, "k8s-control-plane"),
    _objective("Pod scheduling time, p95", "30", "s", 30, "k8s-control-plane?viewPanel=7"),
)
_POSTGRES_OBJECTIVES = (
    _objective("Primary accepts connections and writes", "99.99", "%", 30, "postgres-fleet"),
    _objective("Query latency through PgBouncer, p95", "20", "ms", 30, "postgres-fleet?viewPanel=5"),
    _objective("Replication lag to the synchronous replica, p99", "5", "s", 30, "postgres-replication"),
)
_SEARCH_OBJECTIVES = (
    _objective("Search requests that return results without error", "99.5", "%", 28, "search-api-slo"),
    _objective("Search latency, p95", "300", "ms", 28, "search-api-slo?viewPanel=2"),
)
_NOTIFICATION_OBJECTIVES = (
    _objective("Transactional messages handed to a provider within 60 s", "99.5", "%", 28, "notifications-slo"),
    _objective("Enqueue latency, p95", "100", "ms", 28, "notifications-slo?viewPanel=6"),
)
_INVENTORY_OBJECTIVES = (
    _objective("Stock reservations that succeed", "99.9", "%", 28, "inventory-slo"),
    _objective("Reservation latency, p95", "150", "ms", 28, "inventory-slo?viewPanel=2"),
    _objective("Orders placed for stock that was available", "99.8", "%", 30, "inventory-accuracy"),
)
_REFUND_OBJECTIVES = (
    _objective("Refunds submitted to the acquirer within 24 hours of approval", "99.5", "%", 30, "refunds-slo"),
    _objective("Refund requests that succeed", "99.9", "%", 30, "refunds-slo?viewPanel=3"),
)
_VAULT_OBJECTIVES = (
    _objective("Secret reads that succeed", "99.95", "%", 30, "vault-slo"),
    _objective("Secret read latency, p95", "50", "ms", 30, "vault-slo?viewPanel=2"),
)

SLAS = (
    _sla(
        "Payments Gateway for checkout",
        "payments-gateway",
        "payments",
        ("checkout", "checkout-product"),
        _PAYMENTS_OBJECTIVES,
        (
            *critical_response_targets(),
            # When an acquirer is down the failover takes longer than our own fixes.
            ResponseTargetSpec("SEV1", minutes(15), hours(4), days(2), minutes(30), category="third-party"),
            ResponseTargetSpec("SEV1", minutes(10), hours(1), days(1), minutes(30), category="security"),
        ),
        "Payments answers a **SEV1 raised by Checkout within 15 minutes** and restores payments **within "
        "2 hours**, around the clock. 99.95 % of authorisations succeed over 28 days, and settlement "
        "completes by the next day for 99.9 % of captures.\n\n"
        "An acquirer outage gets 4 hours to restore because failing over moves traffic to a second acquirer "
        "with lower approval rates.",
        "Success ratio = authorisations answered (approved or declined by the issuer) ÷ authorisation attempts, "
        "from the gateway's own metrics, in 1-minute buckets. Latency is measured at the gateway, from request "
        "received to acquirer answer returned.",
        (
            *_STANDARD_EXCLUSIONS,
            "Issuer declines and 3-D Secure challenges the customer abandons.",
        ),
        "Payments on-call via `pd-payments-primary`; acquirer escalations through the Payments engineering manager.",
        business_impact="Each hour without payments loses about £42,000 of gross merchandise value at peak; "
        "failed captures and double charges also bring chargebacks and card-scheme fines.",
        effective_days_ago=400,
        reviewed_days_ago=35,
    ),
    _sla(
        "Checkout API for web and apps",
        "checkout-api",
        "checkout",
        ("checkout-product", SUPPORT),
        _CHECKOUT_OBJECTIVES,
        critical_response_targets(),
        "Checkout keeps 99.95 % of checkout requests succeeding over 28 days and places orders within 1.2 s "
        "for 95 % of customers. SEV1s are acknowledged within 15 minutes and restored within 2 hours, 24×7; "
        "Customer Support gets an update at least every 30 minutes.",
        "Measured at the API gateway for `/checkout/*` routes: 5xx and timeouts count as failures, 4xx do not. "
        "Synthetic checkouts from three regions every minute confirm the gateway's figures.",
        _STANDARD_EXCLUSIONS,
        "Checkout on-call via `pd-checkout-primary`, `#checkout-oncall` in chat.",
        business_impact="Every failed checkout is a lost order: about £42,000 of gross merchandise value an hour "
        "at peak, and abandoned baskets that rarely come back.",
        effective_days_ago=365,
        reviewed_days_ago=20,
    ),
    _sla(
        "Identity Service for customer-facing teams",
        "identity-service",
        "identity",
        ("checkout", "payments", SUPPORT),
        _IDENTITY_OBJECTIVES,
        (
            *critical_response_targets(),
            ResponseTargetSpec("SEV1", minutes(10), hours(1), days(1), minutes(30), category="security"),
        ),
        "Logins and tokens succeed 99.95 % of the time and tokens are issued within 250 ms for 95 % of "
        "requests. A suspected account-takeover or credential leak (SEV1, security) is acknowledged within "
        "10 minutes and contained within an hour.",
        "Success ratio from the identity service's request metrics; failed logins because of wrong passwords "
        "count as successes. OTP delivery is measured from request to the SMS provider's delivery receipt.",
        (*_STANDARD_EXCLUSIONS, "OTP delays caused by the customer's mobile network operator."),
        "Identity on-call via `pd-identity-primary`; Security is brought in for every security-category incident.",
        business_impact="Nobody can buy, track an order or ask for a refund without logging in; a credential "
        "leak is also a notifiable data breach.",
        effective_days_ago=300,
        reviewed_days_ago=60,
    ),
    _sla(
        "Kubernetes Platform for product engineering",
        "kubernetes-platform",
        PLATFORM,
        ("payments", "checkout", "identity"),
        _KUBERNETES_OBJECTIVES,
        platform_response_targets(),
        "Platform keeps the Kubernetes API available 99.95 % of the time over 30 days and schedules 95 % of "
        "pods within 30 seconds. Cluster-wide SEV1s are acknowledged in 10 minutes and restored in an hour, "
        "usually by failing over to the other region.",
        "API availability from blackbox probes against each cluster's API endpoint every 15 s; scheduling time "
        "from `scheduler_pod_scheduling_duration_seconds`.",
        (*_STANDARD_EXCLUSIONS, "Workloads without resource requests or pod disruption budgets."),
        "Platform on-call via `pd-platform-primary`; the SEV1 incident manager rota is `pd-platform-im`.",
        business_impact="Every stateless service runs here; a cluster outage is an outage of the whole shop in "
        "that region.",
        effective_days_ago=540,
        reviewed_days_ago=45,
    ),
    _sla(
        "PostgreSQL Cluster for transactional data",
        "postgresql-cluster",
        PLATFORM,
        ("payments", "orders-fulfilment", "identity"),
        _POSTGRES_OBJECTIVES,
        platform_response_targets(),
        "The primary databases accept writes 99.99 % of the time over 30 days, answer 95 % of queries within "
        "20 ms and keep the synchronous replica within 5 seconds. Data can be restored to any point in the "
        "last 14 days.",
        "Availability from a write probe every 10 s per database; latency from PgBouncer's query-time "
        "histogram; replication lag from `pg_stat_replication`.",
        (*_STANDARD_EXCLUSIONS, "Queries slower because of a missing index that Platform flagged in advance."),
        "Platform on-call via `pd-platform-primary`; database specialists in `#postgres-help` during business hours.",
        business_impact="Payments, orders and accounts all live here; losing writes stops the business and losing "
        "data creates reconciliation work for weeks.",
        effective_days_ago=540,
        reviewed_days_ago=12,
    ),
    _sla(
        "Search API for the shop front",
        "search-api",
        "search-catalogue",
        ("checkout-product",),
        _SEARCH_OBJECTIVES,
        high_response_targets(),
        "Search returns results for 99.5 % of requests within 300 ms (p95). SEV1s are acknowledged within "
        "30 minutes around the clock; smaller issues are handled in business hours.",
        "Measured at the gateway for `/search/*`; an empty result set is a success, a timeout (1 s) is a failure.",
        _STANDARD_EXCLUSIONS,
        "Search & Catalogue on-call via `pd-search-catalogue-primary`.",
        business_impact="Seven in ten orders start with a search; a slow or broken search costs about £18,000 an "
        "hour at peak.",
        effective_days_ago=250,
        reviewed_days_ago=104,
    ),
    _sla(
        "Notification Service for transactional messages",
        "notification-service",
        "notifications",
        ("identity", "orders-fulfilment", SUPPORT),
        _NOTIFICATION_OBJECTIVES,
        high_response_targets(),
        "99.5 % of transactional emails, SMS and pushes reach a delivery provider within 60 seconds. One-time "
        "passcodes and order confirmations go first when the queue is backed up.",
        "From the event's enqueue time to the provider's acceptance, per message; marketing email is not counted.",
        (*_STANDARD_EXCLUSIONS, "Delays inside the email or SMS provider after acceptance."),
        "Notifications on-call via `pd-notifications-primary`.",
        business_impact="Without passcodes customers cannot log in on new devices; without confirmations they "
        "call support to ask whether their order went through.",
        effective_days_ago=210,
        reviewed_days_ago=131,
    ),
    _sla(
        "Inventory Service for checkout and search",
        "inventory-service",
        "orders-fulfilment",
        ("checkout", "search-catalogue"),
        _INVENTORY_OBJECTIVES,
        critical_response_targets(),
        "Stock reservations succeed 99.9 % of the time within 150 ms (p95), and 99.8 % of orders are placed "
        "for stock that really was there. SEV1s: 15 minutes to acknowledge, 2 hours to restore.",
        "Reservation success and latency from the service's metrics; accuracy from the nightly reconciliation "
        "of orders against warehouse picks (an order cancelled for lack of stock counts as a failure).",
        (*_STANDARD_EXCLUSIONS, "Marketplace sellers' stock feeds that arrive late or malformed."),
        "Orders & Fulfilment on-call via `pd-orders-fulfilment-primary`.",
        business_impact="Without reservations checkout stops; with wrong stock we sell what we do not have and "
        "cancel orders after payment.",
        effective_days_ago=330,
        reviewed_days_ago=75,
    ),
    _sla(
        "Refunds Service for customer care",
        "refunds-service",
        "payments",
        (SUPPORT,),
        _REFUND_OBJECTIVES,
        high_response_targets(),
        "99.5 % of approved refunds reach the acquirer within 24 hours, well inside the 14-day legal deadline. "
        "Support agents can tell customers exactly when money will arrive.",
        "From the refund's approval in the Support Desk to the acquirer's acknowledgement, per refund.",
        (*_STANDARD_EXCLUSIONS, "Refunds to payment methods that have expired, which go to manual handling."),
        "Payments on-call via `pd-payments-primary`; refund disputes via payments@basketly.example.",
        business_impact="Late refunds become chargebacks (a £15 fee each), card-scheme complaints and breaches of "
        "consumer law.",
        effective_days_ago=180,
        reviewed_days_ago=50,
    ),
    _sla(
        "Secrets Vault for service credentials",
        "secrets-vault",
        "security",
        (PLATFORM, "payments", "identity"),
        _VAULT_OBJECTIVES,
        high_response_targets(),
        "Services read their credentials successfully 99.95 % of the time within 50 ms (p95). Security also "
        "rotates every database credential at least every 30 days.",
        "From Vault's audit log and telemetry; reads served from an agent's cache count as successes.",
        _STANDARD_EXCLUSIONS,
        "Security on-call via `pd-security-primary`; break-glass procedure in the security runbook.",
        business_impact="Services cannot start or rotate credentials without it; a leak of the tokenisation keys "
        "would put us out of PCI DSS compliance.",
        effective_days_ago=150,
        reviewed_days_ago=28,
    ),
)


# Escalation matrices -----------------------------------------------------------------------

# For each critical service: who leads for the owning team, how to stop the bleeding,
# what responders read first, and any extra duties.
MATRIX_DETAILS = {
    "kubernetes-platform": {
        "lead": "Platform engineering manager",
        "containment": "Cordon the failing nodes or fail the region over with `make region-failover` in the "
        "platform runbook; pause deployments in the affected cluster.",
        "notes": "Check the cloud provider's status page first: a third of cluster incidents start there.",
    },
    "postgresql-cluster": {
        "lead": "Database reliability lead",
        "containment": "Promote the synchronous replica if the primary is unhealthy for more than 2 minutes; "
        "throttle the noisiest client in PgBouncer.",
        "notes": "Never restore over a live database: restore beside it and switch connection strings.",
        "extra": (ResponsibilitySpec(Duty.VALIDATION, "payments", "Confirms no payment rows were lost"),),
    },
    "api-gateway": {
        "lead": "Platform engineering manager",
        "containment": "Roll back the last gateway config release; switch on the bot-protection 'under attack' "
        "mode when traffic is hostile.",
        "notes": "Gateway config changes are the usual cause: look at the last 24 hours of releases first.",
        "extra": (ResponsibilitySpec(Duty.CONTAINMENT, "security", "When the traffic is an attack"),),
    },
    "identity-service": {
        "lead": "Identity engineering manager",
        "containment": "Roll back the last release; for suspected account takeover, force re-authentication for "
        "the affected accounts and revoke their refresh tokens.",
        "notes": "Anything that smells of credential stuffing or a leak is a Security incident too: bring "
        "Security in at level 1.",
        "extra": (ResponsibilitySpec(Duty.CONTAINMENT, "security", "Security-category incidents, from declaration"),),
    },
    "payments-gateway": {
        "lead": "Payments engineering manager",
        "containment": "Route traffic to the failover acquirer with the `payments.acquirer.routing` flag; disable "
        "wallet payments if only they fail.",
        "notes": "Look at both acquirers' status pages first. Never retry captures by hand: duplicates become "
        "double charges.",
        "partner": ("payments", "Acquirers and card schemes, within 1 hour of a SEV1"),
        "extra": (ResponsibilitySpec(Duty.CONTAINMENT, "security", "When card data may be exposed"),),
    },
    "inventory-service": {
        "lead": "Orders & Fulfilment engineering manager",
        "containment": "Switch checkout to optimistic reservations (`inventory.reservations.optimistic`) and "
        "pause marketplace stock feeds if they are the source.",
        "notes": "Oversold orders must be listed for Customer Support before the warehouses' next pick run.",
        "partner": ("orders-fulfilment", "Marketplace sellers affected by stock errors, same day"),
    },
    "checkout-api": {
        "lead": "Checkout engineering manager",
        "containment": "Roll back the last release; if a dependency is failing, turn on the degraded checkout "
        "(`checkout.degraded_mode`) that queues orders for later payment.",
        "notes": "Checkout failures are often a dependency's: look at Payments Gateway, Identity and Inventory "
        "dashboards before digging into our own code.",
    },
}


def _team_name(slug):
    return next(team.name for team in TEAMS if team.slug == slug)


def escalation_steps(owner, owner_name, lead):
    """SEV1 and SEV2 climb from the owner's on-call to its lead, then Platform, then leadership; SEV3 stays local."""
    above_owner = [(PLATFORM, "Platform incident manager", Channel.PAGE, Channel.PHONE)] if owner != PLATFORM else []
    above_owner.append((LEADERSHIP, "VP Engineering", Channel.PHONE, Channel.EMAIL))

    sev1 = [
        EscalationStepSpec("SEV1", 1, minutes(15), owner, f"{owner_name} primary on-call", Channel.PAGE, Channel.PHONE),
        EscalationStepSpec("SEV1", 2, minutes(15), owner, lead, Channel.PHONE, Channel.PAGE, bring_workarounds=True),
    ]
    for level, (team, contact, channel, fallback) in enumerate(above_owner, start=3):
        sev1.append(
            EscalationStepSpec("SEV1", level, minutes(30), team, contact, channel, fallback, bring_workarounds=True)
        )
    sev2 = [
        EscalationStepSpec("SEV2", 1, minutes(30), owner, f"{owner_name} primary on-call", Channel.PAGE, Channel.PHONE),
        EscalationStepSpec("SEV2", 2, minutes(30), owner, lead, Channel.PHONE, Channel.CHAT, bring_workarounds=True),
        EscalationStepSpec(
            "SEV2",
            3,
            minutes(60),
            PLATFORM if owner != PLATFORM else LEADERSHIP,
            "Platform incident manager" if owner != PLATFORM else "VP Engineering",
            Channel.CHAT if owner != PLATFORM else Channel.EMAIL,
            Channel.PAGE if owner != PLATFORM else Channel.PHONE,
            bring_workarounds=True,
        ),
    ]
    sev3 = [
        EscalationStepSpec(
            "SEV3", 1, hours(4), owner, f"{owner_name} on-call", Channel.CHAT, Channel.EMAIL, bring_timeline=False
        ),
    ]
    return (*sev1, *sev2, *sev3)


def responsibilities(owner, owner_name, extra=(), partner=None):
    if owner == PLATFORM:
        second_detector = ResponsibilitySpec(Duty.DETECTION, SUPPORT, "Customer reports, during support hours")
        commanders = [
            ResponsibilitySpec(
                Duty.INCIDENT_COMMANDER, PLATFORM, "SEV1: the Platform incident manager; SEV2: the Platform lead"
            )
        ]
    else:
        second_detector = ResponsibilitySpec(
            Duty.DETECTION, PLATFORM, "Synthetic checks and infrastructure alerts, 24×7"
        )
        commanders = [
            ResponsibilitySpec(Duty.INCIDENT_COMMANDER, owner, f"SEV2: the {owner_name} lead, from declaration"),
            ResponsibilitySpec(Duty.INCIDENT_COMMANDER, PLATFORM, "SEV1: the Platform incident manager takes over"),
        ]
    duties = [
        ResponsibilitySpec(Duty.DETECTION, owner, "Alerting on the SLOs, 24×7"),
        second_detector,
        ResponsibilitySpec(Duty.VALIDATION, owner, "Within 10 minutes of the first alert"),
        ResponsibilitySpec(Duty.CONTAINMENT, owner, "From declaration"),
        ResponsibilitySpec(Duty.REMEDIATION, owner, "Until the root cause is fixed and verified"),
        *commanders,
        ResponsibilitySpec(
            Duty.CUSTOMER_COMMUNICATION, SUPPORT, "Status page within 15 minutes of a SEV1/SEV2, then every 30 minutes"
        ),
        ResponsibilitySpec(Duty.EXECUTIVE_COMMUNICATION, LEADERSHIP, "SEV1: within 30 minutes, then hourly"),
        *extra,
    ]
    if partner:
        duties.append(ResponsibilitySpec(Duty.PARTNER_COMMUNICATION, *partner))
    return tuple(duties)


def playbook(containment):
    return (
        PlaybookStepSpec(
            "Confirm the impact and declare",
            "Check the SLO dashboard and the last 72 hours of releases. Declare in `#incidents` with a severity "
            "from the taxonomy; when in doubt, pick the higher one.",
            5,
            "Is the impact customer-facing, and which severity does it meet?",
        ),
        PlaybookStepSpec(
            "Assemble responders",
            "Open the incident channel, name the incident commander and a scribe, and start the timeline.",
            10,
            "Is there a named incident commander and is the timeline being written?",
        ),
        PlaybookStepSpec("Contain", containment, 30, "Has the customer impact stopped growing?"),
        PlaybookStepSpec(
            "Communicate",
            "Give Customer Support the customer-facing wording for the status page; for a SEV1, brief leadership "
            "with impact, actions and the next update time.",
            15,
            "Do Customer Support and, for a SEV1, leadership have an update with a next-update time?",
        ),
        PlaybookStepSpec(
            "Verify recovery",
            "Watch error ratio and latency for 15 minutes; run the synthetic checks for the affected journeys.",
            20,
            "Have the objectives been back within target for 15 minutes?",
        ),
        PlaybookStepSpec(
            "Hand over and book the review",
            "Close the incident, record the timeline and name the owner of the post-incident review (due within "
            "five working days).",
            10,
            "Is there a post-incident review owner and a date?",
        ),
    )


def escalation_matrix(service, owner_name, details, *, effective_days_ago=200, reviewed_days_ago=40):
    notes = (
        f"**Read first:** {details['notes']}\n\n"
        f"- Runbook: https://runbooks.{EMAIL_DOMAIN}/{service.slug}\n"
        f"- Dashboard: {GRAFANA}/{service.slug}-overview\n"
    )
    return MatrixSpec(
        title=f"{service.name} escalation",
        service=service.slug,
        owner=service.owner,
        notes=notes,
        steps=escalation_steps(service.owner, owner_name, details["lead"]),
        responsibilities=responsibilities(service.owner, owner_name, details.get("extra", ()), details.get("partner")),
        playbook=playbook(details["containment"]),
        effective_days_ago=effective_days_ago,
        reviewed_days_ago=reviewed_days_ago,
    )


MATRICES = tuple(
    escalation_matrix(
        service, _team_name(service.owner), MATRIX_DETAILS[service.slug], reviewed_days_ago=20 + 9 * index
    )
    for index, service in enumerate(service for service in SERVICES if service.tier == ServiceTier.CRITICAL)
)


# Demo logins ----------------------------------------------------------------------------------


def _engineer_and_approver(prefix, team, engineer, approver):
    return (
        DemoUserSpec(f"{prefix}.engineer", *engineer, team=team, role="engineer"),
        DemoUserSpec(f"{prefix}.approver", *approver, team=team, role="approver", approver=True, is_staff=True),
    )


DEMO_USERS = (
    *_engineer_and_approver("product", "checkout-product", ("Lina", "Okafor"), ("Marco", "Bianchi")),
    *_engineer_and_approver("payments", "payments", ("Aisha", "Khan"), ("Tomás", "Ruiz")),
    *_engineer_and_approver("checkout", "checkout", ("Priya", "Nair"), ("Daniel", "Weber")),
    *_engineer_and_approver("identity", "identity", ("Kenji", "Sato"), ("Sofia", "Lindqvist")),
    *_engineer_and_approver("catalogue", "search-catalogue", ("Emeka", "Obi"), ("Hannah", "Schulz")),
    *_engineer_and_approver("notifications", "notifications", ("Yara", "Haddad"), ("Lucas", "Moreau")),
    *_engineer_and_approver("fulfilment", "orders-fulfilment", ("Ana", "Costa"), ("Oliver", "Brown")),
    *_engineer_and_approver("platform", PLATFORM, ("Wei", "Zhang"), ("Fatima", "Benali")),
    *_engineer_and_approver("security", "security", ("Ivan", "Petrov"), ("Grace", "Mensah")),
    *_engineer_and_approver("support", SUPPORT, ("Chloé", "Martin"), ("Samuel", "Adeyemi")),
    DemoUserSpec("exec.cto", "Elena", "Varga", LEADERSHIP, "executive (CTO), approver", approver=True, is_staff=True),
    DemoUserSpec("exec.coo", "James", "Whitfield", LEADERSHIP, "executive (COO)"),
    DemoUserSpec(
        "committee.chair", "Margaret", "Chen", COMMITTEE, "committee chair, approver", approver=True, is_staff=True
    ),
    DemoUserSpec("committee.secretary", "Rafael", "Souza", COMMITTEE, "committee secretary"),
)

# Django model permissions that let approvers use the registry's forms.
STAFF_PERMISSIONS = tuple(
    f"{action}_{model}"
    for model in ("team", "service", "customerjourney", "severity", "incidentcategory")
    for action in ("add", "change")
)


# Benchmark data -------------------------------------------------------------------------------

_SYNTHETIC_TIERS = (ServiceTier.CRITICAL, ServiceTier.HIGH, ServiceTier.STANDARD)


def synthetic_units(size):
    """The (size - 1) × 10 extra blocks `seed_demo --size` adds, numbered from 1 and always named the same."""
    return [synthetic_unit(number) for number in range(1, (size - 1) * SYNTHETIC_UNITS_PER_SIZE + 1)]


def synthetic_unit(number):
    label = f"{number:04d}"
    team = TeamSpec(
        f"Synthetic Team {label}",
        f"synthetic-team-{label}",
        TeamKind.ENGINEERING,
        "Generated for benchmarks by `manage.py seed_demo --size`.",
        Channel.PAGE,
        Channel.CHAT,
    )
    tier = _SYNTHETIC_TIERS[(number - 1) % len(_SYNTHETIC_TIERS)]
    # Each batch of ten forms a chain, so dependency pages have some depth.
    upstream = () if number % SYNTHETIC_UNITS_PER_SIZE == 1 else (f"synthetic-service-{number - 1:04d}",)
    service = ServiceSpec(
        f"Synthetic Service {label}",
        f"synthetic-service-{label}",
        team.slug,
        tier,
        "Generated for benchmarks by `manage.py seed_demo --size`.",
        ("kubernetes-platform", "postgresql-cluster", *upstream),
    )
    consumers = ("checkout", SUPPORT) if number == 1 else ("checkout", f"synthetic-team-{number - 1:04d}")
    objectives = (
        _objective("Requests that succeed", "99.9", "%", 28, f"synthetic-{label}"),
        _objective("Latency, p95", "500", "ms", 28, f"synthetic-{label}?viewPanel=2"),
    )
    sla = _sla(
        f"{service.name} SLA",
        service.slug,
        team.slug,
        consumers,
        objectives,
        critical_response_targets() if tier == ServiceTier.CRITICAL else high_response_targets(),
        f"Synthetic agreement {label} for benchmarks.",
        "Request metrics at the gateway.",
        _STANDARD_EXCLUSIONS,
        f"`{team.pager_handle}`",
        business_impact="None: benchmark data.",
        effective_days_ago=120,
        reviewed_days_ago=30,
    )
    matrix = None
    if tier == ServiceTier.CRITICAL:
        details = {
            "lead": f"{team.name} lead",
            "containment": "Roll back the last release.",
            "notes": "Benchmark data.",
        }
        matrix = escalation_matrix(service, team.name, details)
    return SyntheticUnit(team, service, sla, matrix)


@dataclass(frozen=True)
class DemoApproval:
    """One team's approval of a demo change request, given `after` its submission (None: at the seeding)."""

    team: str
    approver: str
    after: timedelta | None


@dataclass(frozen=True)
class DemoChangeRequestSpec:
    """A change to one SLA response target, taken as far through the lifecycle as `approvals` says.

    Its story is dated: proposed `proposed_ago` before the seeding, submitted `submitted_after` that,
    each approval after the submission. An approval that completes the request applies it, which
    writes the SLA: that one happens at the seeding, after the SLA itself was seeded.
    """

    sla_title: str
    severity: str
    field: str
    minutes: int
    author: str
    summary: str
    rationale: str
    proposed_ago: timedelta
    submitted_after: timedelta = timedelta(minutes=25)
    submit: bool = True
    approvals: tuple = ()  # DemoApproval, in the order given


DEMO_CHANGE_REQUESTS = (
    DemoChangeRequestSpec(
        "Search API for the shop front",
        "SEV1",
        "time_to_acknowledge_minutes",
        20,
        author="catalogue.engineer",
        summary="Acknowledge a search SEV1 within 20 minutes",
        rationale="Search outages cost about a fifth of orders; half an hour before anyone looks is too long.",
        proposed_ago=days(3) + hours(5),
        approvals=(
            DemoApproval("search-catalogue", "catalogue.approver", hours(2)),
            DemoApproval("checkout-product", "product.approver", days(1) + hours(3)),
            DemoApproval("sla-committee", "committee.chair", None),  # the last: applied at the seeding
        ),
    ),
    DemoChangeRequestSpec(
        "Refunds Service for customer care",
        "SEV1",
        "time_to_acknowledge_minutes",
        15,
        author="payments.engineer",
        summary="Faster SEV1 acknowledgement for refunds",
        rationale="Customer Support is flooded within minutes when refunds fail; match the gateway's 15 minutes.",
        # Waiting six days for Customer Support and the committee: the review cycle's "approvals waiting".
        proposed_ago=days(6) + hours(1),
        submitted_after=hours(1),
        approvals=(DemoApproval("payments", "payments.approver", hours(20)),),
    ),
    DemoChangeRequestSpec(
        "Notification Service for transactional messages",
        "SEV2",
        "time_to_restore_minutes",
        180,
        author="notifications.engineer",
        summary="Restore a SEV2 notification outage within 3 hours",
        rationale="Order confirmations queue up; four hours of silence generates support contacts.",
        proposed_ago=days(1) + hours(4),
        submit=False,
    ),
)
