"""The demo's post-incident reviews: a half-year of Basketly's incidents and drills.

Plain definitions only; `demo.review_seeding` writes them through
`reviews.actions`. Services, teams, severities, categories and people are named
by the slugs, keys and usernames of `demo.registry_data`.

Dates are never absolute. Each review sits in the previous or the current
quarter, at a position within it (0 = its first day, 1 = its last day so far),
at a time of day; every other moment is given in minutes after the incident
started. A fresh demo therefore always shows a recent quarter and the one
before it, and a quarterly report has two quarters to compare.

The times are chosen so that some reviews breach the response targets of the
SLA versions they pin (a SEV1 acknowledged after 22 minutes against 15) and
others meet them. Everything is written blameless: systems and decisions, never
a person's fault.
"""

from dataclasses import dataclass
from datetime import time

from reviews.choices import ActionKind, DrillKind, Priority, TimelineKind

PREVIOUS_QUARTER = "previous"
CURRENT_QUARTER = "current"
DEMO_REASON = "Demo data"


@dataclass(frozen=True)
class Due:
    """A due date, in days after the incident started or (for deadlines that must stay in the future or
    the past whatever today is) in days from the day of seeding."""

    days: int
    from_today: bool = False


def after_start(days):
    return Due(days)


def from_today(days):
    return Due(days, from_today=True)


@dataclass(frozen=True)
class TimelineSpec:
    minute: int  # after the incident started
    kind: str
    entry: str


@dataclass(frozen=True)
class ActionItemSpec:
    title: str
    kind: str
    owner: str  # team slug
    assignee: str | None
    due: Due
    priority: str = Priority.MEDIUM
    done_note: str = ""  # set: marked done with this note through reviews.actions.complete_action_item
    link: str = ""


@dataclass(frozen=True)
class ReviewSpec:
    title: str
    severity: str
    category: str | None
    services: tuple[str, ...]
    journeys: tuple[str, ...]
    author: str  # username of the engineer who wrote it
    quarter: str
    position: float  # 0..1 through the quarter's days so far
    starts_at: time  # UTC, which the demo teams' working hours use
    detect: int  # minutes after the start
    acknowledge: int
    restore: int
    resolve: int
    summary: str
    customer_impact: str
    trigger: str
    root_causes: str
    contributing_factors: str
    detection: str
    resolution: str
    went_well: str
    went_wrong: str
    got_lucky: str
    timeline: tuple[TimelineSpec, ...]
    action_items: tuple[ActionItemSpec, ...]
    customers_affected: int | None = None
    support_contacts: int | None = None
    links: str = ""
    publish: bool = True
    weekday: bool = False  # move it onto a working day (a business-hours SEV3)
    drill_kind: str = ""
    restricted_to: tuple[str, ...] = ()

    @property
    def is_drill(self):
        return bool(self.drill_kind)

    @property
    def is_restricted(self):
        return bool(self.restricted_to)


GRAFANA = "https://grafana.example.com/d"
TICKETS = "https://tickets.basketly.example/browse"


def _links(*lines):
    return "\n".join(lines)


T = TimelineSpec
A = ActionItemSpec
K = TimelineKind

REVIEWS = (
    # Previous quarter ------------------------------------------------------------------------------
    ReviewSpec(
        title="Card payments failed while the primary acquirer was down",
        severity="SEV1",
        category="third-party",
        services=("payments-gateway", "checkout-api"),
        journeys=("check-out-and-pay",),
        author="payments.engineer",
        quarter=PREVIOUS_QUARTER,
        position=0.12,
        starts_at=time(19, 4),
        detect=4,
        acknowledge=26,  # 22 minutes after detection, against a 15-minute target
        restore=112,
        resolve=1440,
        summary="Our primary acquirer had a partial outage during the evening peak. Card authorisations "
        "through it timed out after 30 s and checkout showed customers a generic payment error. Payments "
        "routed traffic to the failover acquirer by hand after 1 h 46 min; the acquirer fixed its side the "
        "next morning.",
        customer_impact="About **38 %** of card payments failed for 108 minutes at peak. Customers saw "
        "“Payment could not be completed” and most retried; wallet payments were not affected. Roughly "
        "£61,000 of orders were abandoned and 214 customers were charged but saw an error (the "
        "authorisations were voided automatically within 24 hours).",
        customers_affected=9_400,
        support_contacts=1_130,
        trigger="The acquirer's authorisation endpoint in its Frankfurt region began timing out for about "
        "four in ten requests after a network change on their side.",
        root_causes="- Failover to the second acquirer is a manual flag change; nothing triggers it on the "
        "acquirer's error rate.\n"
        "- The gateway waits 30 s for an acquirer answer, so each failing request held a worker and the "
        "queue grew for healthy requests too.",
        contributing_factors="- The acquirer's status page stayed green for the first 50 minutes.\n"
        "- The payments alert fired on the gateway's overall error ratio, which includes issuer declines, "
        "so it looked like a normal evening spike at first.\n"
        "- The page went to the primary on-call's phone, which was on silent after a hand-over; the "
        "secondary was paged by the escalation policy after 15 minutes.",
        detection="The SLO burn-rate alert fired 4 minutes after the timeouts started. An alert on timeouts "
        "per acquirer would have named the acquirer at once.",
        resolution="Payments switched `payments.acquirer.routing` to the failover acquirer, retried the "
        "queued authorisations once and watched approval rates recover. The acquirer confirmed its fix at "
        "08:10 the next day and traffic moved back after an hour of canary.",
        went_well="- The failover acquirer took the whole load without errors.\n"
        "- Customer Support had the status page updated within 12 minutes of the declaration.\n"
        "- Automatic voids meant nobody was charged for an order that failed.",
        went_wrong="- Acknowledgement took 22 minutes against the SLA's 15.\n"
        "- Nobody knew who could approve switching acquirers at night; the decision waited for the "
        "engineering manager.\n"
        "- The 30 s timeout made a partial outage look like a full one.",
        got_lucky="- The outage began after the evening's marketing email had gone out, not before.\n"
        "- The failover acquirer had just raised our volume cap for the coming sale.",
        timeline=(
            T(0, K.TRIGGER, "Acquirer timeouts start: 38 % of authorisations wait 30 s and fail."),
            T(4, K.DETECTION, "Payments SLO burn-rate alert fires; primary on-call paged."),
            T(19, K.ESCALATION, "No acknowledgement; the escalation policy pages the secondary on-call."),
            T(
                26,
                K.ESCALATION,
                "Secondary acknowledges, declares a SEV1 in #incidents and names an incident commander.",
            ),
            T(38, K.COMMUNICATION, "Status page: “Some card payments are failing; wallets work.”"),
            T(71, K.NOTE, "Acquirer's status page turns amber; their support confirms a problem in Frankfurt."),
            T(
                106,
                K.MITIGATION,
                "Engineering manager approves the routing change; traffic moves to the failover acquirer.",
            ),
            T(112, K.RESOLUTION, "Approval rate back to normal for 5 minutes; incident marked restored."),
        ),
        action_items=(
            A(
                "Fail over to the second acquirer automatically when one acquirer's timeouts pass 10 %",
                ActionKind.PREVENT,
                "payments",
                "payments.engineer",
                after_start(30),
                Priority.HIGH,
                done_note="Routing now follows a per-acquirer circuit breaker; tested in staging with injected "
                "timeouts and in production during the live drill.",
                link=f"{TICKETS}/PAY-1412",
            ),
            A(
                "Cut the acquirer timeout from 30 s to 8 s and return a retryable error",
                ActionKind.MITIGATE,
                "payments",
                "payments.engineer",
                after_start(21),
                Priority.HIGH,
                done_note="Timeout is 8 s since release 2024.19; p99 of healthy authorisations is 2.1 s.",
                link=f"{TICKETS}/PAY-1413",
            ),
            A(
                "Alert on timeouts per acquirer, separate from issuer declines",
                ActionKind.DETECT,
                "payments",
                "payments.engineer",
                after_start(28),
                link=f"{TICKETS}/PAY-1414",
                done_note="New alert `AcquirerTimeoutsHigh` pages at 5 % over 3 minutes.",
            ),
            A(
                "Write down who may switch acquirers out of hours, and put it in the runbook",
                ActionKind.PROCESS,
                "payments",
                "payments.approver",
                from_today(-12),
                Priority.HIGH,
                link=f"{TICKETS}/PAY-1415",
            ),
        ),
        links=_links(f"{GRAFANA}/payments-slo", "https://chat.basketly.example/archives/inc-payments-acquirer"),
    ),
    ReviewSpec(
        title="Logins failed after the token-signing key rotation",
        severity="SEV1",
        category="availability",
        services=("identity-service", "secrets-vault"),
        journeys=("sign-up-and-log-in", "check-out-and-pay"),
        author="identity.engineer",
        quarter=PREVIOUS_QUARTER,
        position=0.3,
        starts_at=time(9, 30),
        detect=3,
        acknowledge=9,
        restore=155,  # 2 h 35 min against a 2-hour target
        resolve=300,
        summary="The scheduled quarterly rotation of the token-signing key started signing tokens with the new "
        "key before every service that verifies them had fetched it. Services with a 6-hour key cache "
        "rejected new tokens, so customers who logged in were logged straight out again, and service-to-"
        "service calls failed.",
        customer_impact="For 2 h 35 min about **60 %** of logins failed, and checkout failed for customers "
        "whose session was refreshed in that window. Roughly 31,000 customers could not log in; orders "
        "dropped by a third.",
        customers_affected=31_000,
        support_contacts=2_480,
        trigger="The rotation job published the new key to Vault and switched signing to it in one step.",
        root_causes="- Signing switched to the new key at the same moment it was published, with no overlap "
        "for verifiers to fetch it.\n"
        "- Verifiers cache the key set for 6 hours and only refetch on a schedule, not on an unknown key id.",
        contributing_factors="- The rotation had been done by hand before; this was the first run of the "
        "automated job.\n"
        "- Staging has a single verifier with no cache, so the staging rehearsal passed.",
        detection="Login error ratio alert after 3 minutes. A synthetic login that calls every verifier "
        "would have caught it in staging.",
        resolution="Identity switched signing back to the old key (tokens signed with the new key failed until "
        "they expired), then restarted verifiers to load both keys and rotated again 2 hours later with an "
        "overlap.",
        went_well="- Acknowledged within 9 minutes, with Security joining at once.\n"
        "- The old key was still in Vault, so rolling back was one command.",
        went_wrong="- The rollback took longer than needed because tokens already signed with the new key "
        "kept failing for their 1-hour lifetime; we restored 35 minutes past the 2-hour target.\n"
        "- The rotation runbook had no rollback section.",
        got_lucky="- The rotation was scheduled for a weekday morning, with both teams at their desks.\n"
        "- The card-tokenisation namespace uses separate keys and was not touched.",
        timeline=(
            T(0, K.TRIGGER, "Rotation job switches signing to the new key."),
            T(3, K.DETECTION, "Login error ratio alert: 58 % of logins failing."),
            T(9, K.ESCALATION, "Identity on-call acknowledges and declares a SEV1; Security joins."),
            T(25, K.COMMUNICATION, "Status page: “Some customers are being logged out.”"),
            T(41, K.MITIGATION, "Signing switched back to the old key."),
            T(102, K.MITIGATION, "Verifiers restarted to load both keys."),
            T(155, K.RESOLUTION, "Login success back above 99.9 % for 15 minutes."),
        ),
        action_items=(
            A(
                "Publish a new signing key 24 hours before signing with it",
                ActionKind.PREVENT,
                "identity",
                "identity.engineer",
                after_start(14),
                Priority.HIGH,
                done_note="The rotation job now has a publish phase and a switch phase a day apart.",
                link=f"{TICKETS}/IDN-877",
            ),
            A(
                "Refetch the key set when a token names an unknown key id",
                ActionKind.MITIGATE,
                "identity",
                "identity.engineer",
                from_today(21),
                link=f"{TICKETS}/IDN-878",
            ),
            A(
                "Synthetic login that checks the token against every verifier, in staging and production",
                ActionKind.DETECT,
                "identity",
                "identity.engineer",
                from_today(-5),
                Priority.HIGH,
                link=f"{TICKETS}/IDN-879",
            ),
            A(
                "Add a rollback section to the key rotation runbook",
                ActionKind.PROCESS,
                "identity",
                "identity.approver",
                after_start(10),
                done_note="Runbook updated and rehearsed with the Security on-call.",
            ),
        ),
        links=_links(f"{GRAFANA}/identity-slo"),
    ),
    ReviewSpec(
        title="Tabletop: losing the PostgreSQL primary during the spring sale",
        severity="SEV1",
        category="availability",
        services=("postgresql-cluster",),
        journeys=("check-out-and-pay",),
        author="platform.engineer",
        quarter=PREVIOUS_QUARTER,
        position=0.45,
        starts_at=time(14, 0),
        detect=2,
        acknowledge=6,
        restore=48,
        resolve=90,
        drill_kind=DrillKind.TABLETOP,
        summary="A 90-minute tabletop exercise with Platform, Payments, Orders & Fulfilment and Customer "
        "Support. Scenario: the orders database primary loses its disk at 20:15 on the first evening of "
        "the spring sale, and the synchronous replica is 40 seconds behind because of a long-running "
        "report.",
        customer_impact="None: a rehearsal. In the scenario, checkout would fail for every customer until "
        "the replica is promoted.",
        trigger="Facilitator's inject: “The primary's disk is gone; PgBouncer reports no server connections.”",
        root_causes="Not applicable to a drill; the scenario tested the promotion procedure and the "
        "hand-offs around it.",
        contributing_factors="",
        detection="The team relied on the write-probe alert; nobody looked at replication lag before "
        "deciding to promote.",
        resolution="The team promoted the replica in the scenario after 42 minutes of discussion, then "
        "worked through reconciling the 40 seconds of possibly lost orders with Payments.",
        went_well="- The promotion command and its checks were well known.\n"
        "- Payments knew how to list captured payments without an order.",
        went_wrong="**Gaps found:**\n\n"
        "- Nobody could say who decides to promote when the replica is behind; the runbook says "
        "“the database reliability lead”, who is not on call at night.\n"
        "- The reconciliation query for lost orders exists only in one engineer's notes.\n"
        "- Customer Support had no prepared wording for “some orders may need to be placed again”.",
        got_lucky="Not applicable to a drill.",
        timeline=(
            T(0, K.TRIGGER, "Inject: the primary's disk fails at 20:15 on sale night."),
            T(2, K.DETECTION, "Write-probe alert pages the Platform on-call."),
            T(6, K.ESCALATION, "Platform on-call acknowledges and declares a SEV1."),
            T(20, K.NOTE, "Inject: the replica is 40 s behind. Discussion of whether to promote."),
            T(42, K.MITIGATION, "Decision to promote; replica promoted in the scenario."),
            T(60, K.COMMUNICATION, "Customer Support drafts the status-page wording from scratch."),
            T(90, K.RESOLUTION, "Exercise ends; gaps collected."),
        ),
        action_items=(
            A(
                "Name the out-of-hours decider for promoting a lagging replica",
                ActionKind.PROCESS,
                "platform",
                "platform.approver",
                from_today(-20),
                Priority.HIGH,
                link=f"{TICKETS}/PLAT-2290",
            ),
            A(
                "Put the lost-orders reconciliation query in the runbook and test it monthly",
                ActionKind.MITIGATE,
                "payments",
                "payments.engineer",
                from_today(14),
                link=f"{TICKETS}/PAY-1431",
            ),
            A(
                "Prepared status-page wording for data-loss scenarios",
                ActionKind.PROCESS,
                "customer-support",
                "support.engineer",
                after_start(14),
                Priority.LOW,
                done_note="Three templates added to the status page tool: partial loss, re-place order, refund.",
            ),
            A(
                "Alert when synchronous replication lag exceeds 5 s for a minute",
                ActionKind.DETECT,
                "platform",
                "platform.engineer",
                from_today(30),
            ),
        ),
    ),
    ReviewSpec(
        title="Search returned incomplete results after index corruption",
        severity="SEV2",
        category="data-integrity",
        services=("search-api", "product-catalogue"),
        journeys=("browse-and-search",),
        author="catalogue.engineer",
        quarter=PREVIOUS_QUARTER,
        position=0.6,
        starts_at=time(6, 40),
        detect=95,
        acknowledge=130,  # 35 minutes after detection, inside the 1-hour SEV2 target
        restore=370,
        resolve=2880,
        summary="A search node ran out of disk during the nightly reindex and one primary shard was written "
        "partially. About a fifth of listings disappeared from search results, though product pages and "
        "the basket worked. Search & Catalogue rebuilt the index from the catalogue.",
        customer_impact="For 6 hours about **19 %** of listings were missing from search and category "
        "pages. Sellers noticed before customers did: 63 sellers contacted support about zero sales. "
        "Estimated lost sales about £70,000.",
        customers_affected=48_000,
        support_contacts=140,
        trigger="The nightly full reindex filled the disk on one OpenSearch data node.",
        root_causes="- The reindex writes into the live index instead of a new one with an alias swap.\n"
        "- Disk watermarks were set above the size a full reindex needs on the largest node.",
        contributing_factors="- Catalogue growth from marketplace sellers (+30 % in a quarter) was not fed "
        "into disk capacity planning.\n"
        "- Search success ratio stayed green: an incomplete result set is a success.",
        detection="Found by the seller-support queue, 95 minutes after the shard failed. A check that the "
        "index holds as many documents as the catalogue would have fired within minutes.",
        resolution="Search & Catalogue added disk, rebuilt the index into a new one from the catalogue and "
        "swapped the alias.",
        went_well="- The catalogue as source of truth made a clean rebuild possible.\n"
        "- Acknowledged and escalated within the SLA despite the early hour.",
        went_wrong="- Detection came from sellers, not monitoring.\n"
        "- The rebuild took 4 hours because it competed with daytime traffic.",
        got_lucky="- It happened early in the morning, not during the evening peak.",
        timeline=(
            T(0, K.TRIGGER, "Data node hits the flood-stage watermark; a primary shard goes read-only mid-write."),
            T(95, K.DETECTION, "Seller support escalates a cluster of “zero sales” tickets to #search-catalogue."),
            T(130, K.ESCALATION, "Search on-call acknowledges and declares a SEV2."),
            T(150, K.COMMUNICATION, "Support tells sellers search visibility is being restored."),
            T(180, K.MITIGATION, "Disk added; rebuild into a new index started."),
            T(370, K.RESOLUTION, "Alias swapped to the rebuilt index; document count matches the catalogue."),
        ),
        action_items=(
            A(
                "Reindex into a new index and swap the alias",
                ActionKind.PREVENT,
                "search-catalogue",
                "catalogue.engineer",
                after_start(28),
                Priority.HIGH,
                done_note="Blue-green reindexing in place since the following week; the old index is kept for "
                "a day for rollback.",
            ),
            A(
                "Alert when the index document count differs from the catalogue by more than 1 %",
                ActionKind.DETECT,
                "search-catalogue",
                "catalogue.engineer",
                after_start(21),
                done_note="`SearchIndexDrift` alert live; fired correctly in a staging test.",
            ),
            A(
                "Add catalogue growth to the quarterly capacity review",
                ActionKind.PROCESS,
                "platform",
                "platform.approver",
                from_today(-3),
                Priority.LOW,
            ),
        ),
    ),
    ReviewSpec(
        title="Notification backlog delayed passcodes and order confirmations",
        severity="SEV2",
        category="capacity",
        services=("notification-service",),
        journeys=("sign-up-and-log-in", "track-an-order"),
        author="notifications.engineer",
        quarter=PREVIOUS_QUARTER,
        position=0.78,
        starts_at=time(18, 5),
        detect=8,
        acknowledge=24,
        restore=175,
        resolve=600,
        summary="A marketing campaign to 2.1 million customers shared the notification queue with "
        "transactional messages. One-time passcodes and order confirmations waited behind it for up to "
        "40 minutes.",
        customer_impact="For almost 3 hours, passcodes took up to 40 minutes to arrive, so customers on new "
        "devices could not log in; order confirmations were late and customers contacted support to ask "
        "whether their order had gone through.",
        customers_affected=12_500,
        support_contacts=760,
        trigger="The campaign send started at 18:00, ahead of its planned 22:00 slot.",
        root_causes="- Transactional and marketing messages share one queue with no priority.\n"
        "- The campaign tool allowed a send of any size at any time.",
        contributing_factors="- The campaign was moved earlier to catch a competitor's promotion, which was "
        "a reasonable business call that nobody could see the cost of.",
        detection="The enqueue-latency alert fired after 8 minutes.",
        resolution="Notifications paused the campaign, drained passcodes first with a temporary consumer, "
        "then resumed the campaign at a capped rate after 22:00.",
        went_well="- Acknowledged in 16 minutes and restored well inside the 8-hour SEV2 target.\n"
        "- Pausing a campaign was a one-click action.",
        went_wrong="- The temporary passcode consumer was improvised in the incident.",
        got_lucky="- The SMS aggregator had spare throughput for the catch-up burst.",
        timeline=(
            T(0, K.TRIGGER, "Campaign send begins: 2.1 million emails enqueued."),
            T(8, K.DETECTION, "Enqueue latency alert: p95 at 4 minutes."),
            T(24, K.ESCALATION, "Notifications on-call acknowledges; SEV2 declared."),
            T(40, K.COMMUNICATION, "Status page: “Login codes and order emails are delayed.”"),
            T(52, K.MITIGATION, "Campaign paused."),
            T(95, K.MITIGATION, "Temporary consumer drains passcodes and confirmations first."),
            T(175, K.RESOLUTION, "Transactional latency back under 60 s."),
        ),
        action_items=(
            A(
                "Separate queues for transactional and marketing messages",
                ActionKind.PREVENT,
                "notifications",
                "notifications.engineer",
                from_today(40),
                Priority.HIGH,
                link=f"{TICKETS}/NOT-512",
            ),
            A(
                "Cap campaign send rate to what leaves headroom for transactional traffic",
                ActionKind.MITIGATE,
                "notifications",
                "notifications.engineer",
                after_start(10),
                done_note="Campaign sends are capped at 400 messages a second.",
            ),
        ),
    ),
    # Current quarter --------------------------------------------------------------------------------
    ReviewSpec(
        title="Checkout latency after the basket-pricing deploy",
        severity="SEV2",
        category="performance",
        services=("checkout-api", "basket-service"),
        journeys=("check-out-and-pay",),
        author="checkout.engineer",
        quarter=CURRENT_QUARTER,
        position=0.05,
        starts_at=time(11, 12),
        detect=6,
        acknowledge=18,
        restore=95,
        resolve=360,
        summary="A basket-service release recalculated promotion prices on every checkout call instead of "
        "reading them from cache. Place-order latency rose from 0.9 s to 4.5 s at p95 and some mobile "
        "clients timed out. Checkout rolled the release back.",
        customer_impact="For 95 minutes checkout was slow for everyone and about 3 % of orders failed with a "
        "timeout on the apps; most customers retried successfully.",
        customers_affected=4_100,
        support_contacts=85,
        trigger="Basket-service release 2024.31 at 11:10.",
        root_causes="- A refactor moved the promotion lookup out of the cached path; the change looked "
        "equivalent in review.\n"
        "- The canary compared error ratio only, not latency.",
        contributing_factors="- Load tests run against a basket with one item; real baskets average seven.",
        detection="Checkout latency alert after 6 minutes.",
        resolution="Rolled back basket-service; latency recovered within 4 minutes.",
        went_well="- Acknowledged in 12 minutes; rollback decided within half an hour.\n"
        "- The checkout dashboard pointed at basket-service straight away.",
        went_wrong="- The canary passed a release that quadrupled latency.",
        got_lucky="- It was late morning, well before the evening peak.",
        timeline=(
            T(0, K.TRIGGER, "Basket-service 2024.31 reaches 100 % of traffic."),
            T(6, K.DETECTION, "Checkout p95 latency alert: 4.5 s."),
            T(18, K.ESCALATION, "Checkout on-call acknowledges; SEV2 declared."),
            T(35, K.NOTE, "Traces show basket-service recalculating promotions on every call."),
            T(82, K.MITIGATION, "Rollback of basket-service started."),
            T(95, K.RESOLUTION, "p95 back under 1.2 s for 10 minutes."),
        ),
        action_items=(
            A(
                "Add a latency comparison to the basket-service canary",
                ActionKind.PREVENT,
                "checkout",
                "checkout.engineer",
                after_start(14),
                Priority.HIGH,
                done_note="The canary now fails when p95 latency is more than 30 % above the baseline.",
            ),
            A(
                "Load-test checkout with realistic basket sizes",
                ActionKind.DETECT,
                "checkout",
                "checkout.engineer",
                from_today(25),
            ),
        ),
    ),
    ReviewSpec(
        title="Inventory oversold during the flash sale",
        severity="SEV2",
        category="data-integrity",
        services=("inventory-service", "checkout-api"),
        journeys=("check-out-and-pay",),
        author="fulfilment.engineer",
        quarter=CURRENT_QUARTER,
        position=0.2,
        starts_at=time(12, 0),
        detect=25,
        acknowledge=70,  # 45 minutes after detection, against a 30-minute target
        restore=310,  # 5 h 10 min against a 4-hour target
        resolve=1500,
        summary="During a one-hour flash sale on headphones, reservations for marketplace stock were accepted "
        "from a seller feed that was 20 minutes stale. We sold 1,340 units more than sellers had; the "
        "orders were cancelled and refunded with a voucher.",
        customer_impact="1,340 customers paid for headphones that were not in stock; their orders were "
        "cancelled the same day with a full refund and a £10 voucher.",
        customers_affected=1_340,
        support_contacts=610,
        trigger="The flash sale started at 12:00 with 4,000 units across three marketplace sellers.",
        root_causes="- Marketplace stock is trusted for up to 30 minutes after the last feed; under flash-"
        "sale demand that is far too long.\n"
        "- Reservations do not check the seller's live stock API, which exists.",
        contributing_factors="- The flash-sale checklist did not mention marketplace stock.\n"
        "- The oversell alert compares against nightly reconciliation only.",
        detection="A seller phoned their account manager 25 minutes into the sale. The first page went to "
        "the Orders & Fulfilment chat channel rather than the pager.",
        resolution="Orders & Fulfilment paused the sellers' listings, cancelled the oversold orders and, with "
        "Customer Support, contacted every affected customer.",
        went_well="- Customer Support had contacted every affected customer by the evening.\n"
        "- Refunds went through within the hour.",
        went_wrong="- Acknowledgement took 45 minutes against the 30-minute SEV2 target because the alert "
        "went to chat, not the pager.\n"
        "- Restoring took 5 h 10 min against a 4-hour target: listing the oversold orders took hours of "
        "hand-written queries.",
        got_lucky="- Only one product category was on sale.",
        timeline=(
            T(0, K.TRIGGER, "Flash sale starts; reservations accepted against a 20-minute-old seller feed."),
            T(25, K.DETECTION, "A seller reports 900 orders against 300 units."),
            T(70, K.ESCALATION, "Orders & Fulfilment on-call acknowledges; SEV2 declared."),
            T(85, K.MITIGATION, "Sellers' listings paused."),
            T(150, K.COMMUNICATION, "Customer Support briefed; customer email drafted."),
            T(310, K.RESOLUTION, "All oversold orders cancelled and refunded."),
        ),
        action_items=(
            A(
                "Check marketplace sellers' live stock before reserving during a sale",
                ActionKind.PREVENT,
                "orders-fulfilment",
                "fulfilment.engineer",
                from_today(30),
                Priority.HIGH,
            ),
            A(
                "Route the oversell alert to the pager, not chat",
                ActionKind.DETECT,
                "orders-fulfilment",
                "fulfilment.engineer",
                after_start(3),
                Priority.HIGH,
                done_note="Alert routed to `pd-orders-fulfilment-primary`.",
            ),
            A(
                "A saved query that lists oversold orders for Customer Support",
                ActionKind.MITIGATE,
                "orders-fulfilment",
                "fulfilment.approver",
                from_today(-2),
            ),
            A(
                "Add marketplace stock to the flash-sale checklist",
                ActionKind.PROCESS,
                "checkout-product",
                "product.engineer",
                from_today(10),
                Priority.LOW,
            ),
        ),
    ),
    ReviewSpec(
        title="Leaked CI deploy token used against the identity admin API",
        severity="SEV1",
        category="security",
        services=("identity-service", "secrets-vault"),
        journeys=("sign-up-and-log-in",),
        author="security.engineer",
        quarter=CURRENT_QUARTER,
        position=0.35,
        starts_at=time(2, 17),
        detect=11,
        acknowledge=17,  # 6 minutes after detection, inside the 10-minute security target
        restore=58,
        resolve=1380,
        # Security leads; Identity owns the affected service, so it approves the review and must see it.
        restricted_to=("security", "identity"),
        summary="A CI deploy token with access to the identity admin API appeared in a public build log of "
        "an open-source helper repository. An unknown party used it 11 minutes later to list admin "
        "accounts. Security revoked it within 41 minutes of the first use; no customer data was read.",
        customer_impact="None found. The token could list staff accounts and read their roles; audit logs "
        "show 14 list calls and no writes, and no customer records were in reach.",
        customers_affected=0,
        support_contacts=0,
        trigger="A debug flag in a CI job printed the environment, including the deploy token, to a public log.",
        root_causes="- The deploy token was long-lived and broader than the job needed.\n"
        "- Public and internal CI jobs share one runner configuration.",
        contributing_factors="- Log masking covered Vault-issued secrets but not this older static token.",
        detection="Vault's anomaly rule flagged a token used from an unknown network 11 minutes after the leak.",
        resolution="Security revoked the token, rotated every static CI credential and moved the job to "
        "short-lived credentials from Vault.",
        went_well="- Detected in 11 minutes and acknowledged 6 minutes later, at 02:30.\n"
        "- Audit logs were complete enough to prove nothing was written.",
        went_wrong="- The static token had not been in the rotation inventory.\n"
        "- Revocation needed a manual approval step that slowed it by 15 minutes.",
        got_lucky="- The token's scope did not include customer data.",
        timeline=(
            T(0, K.TRIGGER, "Public build log prints the deploy token."),
            T(11, K.DETECTION, "Vault anomaly rule: token used from an unknown network."),
            T(17, K.ESCALATION, "Security on-call acknowledges; SEV1 (security) declared; Identity paged."),
            T(34, K.NOTE, "Audit logs show list calls only."),
            T(52, K.MITIGATION, "Token revoked; public log deleted."),
            T(58, K.RESOLUTION, "No further use; all CI static credentials queued for rotation."),
        ),
        action_items=(
            A(
                "Replace static CI tokens with short-lived Vault credentials",
                ActionKind.PREVENT,
                "security",
                "security.engineer",
                after_start(7),
                Priority.HIGH,
                done_note="All 23 pipelines use Vault's JWT auth; static tokens deleted.",
            ),
            A(
                "Separate runners for public and internal repositories",
                ActionKind.PREVENT,
                "platform",
                "platform.engineer",
                from_today(20),
                Priority.HIGH,
            ),
            A(
                "Pre-approve token revocation for the security on-call",
                ActionKind.PROCESS,
                "security",
                "security.approver",
                from_today(-1),
            ),
        ),
    ),
    ReviewSpec(
        title="Refund emails showed the wrong amount for partial refunds",
        severity="SEV3",
        category="data-integrity",
        services=("refunds-service", "notification-service"),
        journeys=("request-a-refund",),
        author="payments.engineer",
        quarter=CURRENT_QUARTER,
        position=0.5,
        weekday=True,
        starts_at=time(10, 20),
        detect=35,
        acknowledge=110,
        restore=1620,
        resolve=4500,
        summary="Partial-refund confirmation emails showed the order total instead of the refunded amount. The "
        "money refunded was correct. Raised by Customer Support in business hours and handled as a SEV3.",
        customer_impact="About 900 customers were told they would get more money back than they did; 120 "
        "contacted support.",
        customers_affected=900,
        support_contacts=120,
        trigger="A template change to the refund email used `order.total` instead of `refund.amount`.",
        root_causes="- The template's preview data had a full refund, where both amounts are equal.",
        contributing_factors="- Template changes do not go through the payments code review.",
        detection="Customer Support noticed a pattern of “where is the rest of my refund?” chats.",
        resolution="Corrected the template and sent a correction email to every affected customer.",
        went_well="- Handled inside business hours and well within the SEV3 targets.\n"
        "- Support had a macro for the correction within an hour.",
        went_wrong="- The template preview did not exercise partial refunds.",
        got_lucky="- The refunded amounts themselves were right.",
        timeline=(
            T(0, K.TRIGGER, "Template change deployed."),
            T(35, K.DETECTION, "Support lead reports a pattern in chats."),
            T(110, K.ESCALATION, "Payments acknowledges in #payments; SEV3."),
            T(240, K.MITIGATION, "Template corrected."),
            T(1620, K.RESOLUTION, "Correction emails sent."),
        ),
        action_items=(
            A(
                "Template previews with partial-refund sample data",
                ActionKind.PREVENT,
                "notifications",
                "notifications.engineer",
                from_today(12),
                Priority.LOW,
            ),
        ),
    ),
    ReviewSpec(
        title="Live drill: paging the Payments Gateway escalation path",
        severity="SEV1",
        category="availability",
        services=("payments-gateway",),
        journeys=("check-out-and-pay",),
        author="payments.engineer",
        quarter=CURRENT_QUARTER,
        position=0.62,
        starts_at=time(14, 0),
        detect=3,
        acknowledge=21,
        restore=40,
        resolve=60,
        drill_kind=DrillKind.LIVE,
        summary="An announced live test of the Payments Gateway SEV1 escalation path: a synthetic alert "
        "paged level 1, and each level was left unanswered on purpose until the next one fired, up to the "
        "Platform incident manager. The failover acquirer switch was exercised on 5 % of traffic.",
        customer_impact="None: the failover was exercised on 5 % of traffic with the second acquirer healthy.",
        trigger="Synthetic `PaymentsGatewayDown` alert raised by the facilitator.",
        root_causes="Not applicable to a drill.",
        contributing_factors="",
        detection="The synthetic alert paged level 1 after 3 minutes, as configured.",
        resolution="Drill ended after the Platform incident manager joined and the acquirer switch had been exercised.",
        went_well="- The automatic acquirer failover moved 5 % of traffic in 40 seconds.",
        went_wrong="**Gaps found:**\n\n"
        "- Level 2 (the Payments engineering manager) was called on a phone number that changed last "
        "month; the escalation matrix in the paging tool was not updated.\n"
        "- The Platform incident manager was paged 18 minutes after detection instead of 30: the paging "
        "tool's waits do not match the pinned escalation matrix.",
        got_lucky="Not applicable to a drill.",
        timeline=(
            T(0, K.TRIGGER, "Facilitator raises the synthetic alert."),
            T(3, K.DETECTION, "Level 1 paged (Payments primary on-call), left unanswered by arrangement."),
            T(12, K.ESCALATION, "Level 2 called on an old phone number; no answer."),
            T(21, K.ESCALATION, "Platform incident manager paged, earlier than the matrix says; acknowledges."),
            T(30, K.MITIGATION, "Acquirer failover exercised on 5 % of traffic."),
            T(40, K.RESOLUTION, "Traffic back on the primary acquirer; drill ends."),
        ),
        action_items=(
            A(
                "Sync the paging tool's contacts with the escalation matrix nightly",
                ActionKind.PROCESS,
                "platform",
                "platform.engineer",
                from_today(21),
                Priority.HIGH,
            ),
            A(
                "Correct the level-2 phone number for Payments",
                ActionKind.PROCESS,
                "payments",
                "payments.approver",
                after_start(1),
                Priority.HIGH,
                done_note="Number corrected in the paging tool and in the matrix's contact details.",
            ),
            A(
                "Align the paging tool's waits with the Payments Gateway matrix",
                ActionKind.DETECT,
                "payments",
                "payments.engineer",
                from_today(7),
            ),
        ),
    ),
    ReviewSpec(
        title="Checkout errors when a gateway rate-limit rule misfired",
        severity="SEV1",
        category="availability",
        services=("api-gateway", "checkout-api"),
        journeys=("check-out-and-pay",),
        author="checkout.engineer",
        quarter=CURRENT_QUARTER,
        position=0.8,
        starts_at=time(20, 31),
        detect=3,
        acknowledge=11,
        restore=64,
        resolve=180,
        publish=False,
        summary="A new bot-protection rule on the API gateway counted the checkout API's retries as bot "
        "traffic and returned 429s to about a quarter of place-order calls. Platform reverted the rule.",
        customer_impact="For about an hour, roughly **25 %** of orders failed at the last step; most customers "
        "retried and succeeded.",
        customers_affected=5_200,
        support_contacts=310,
        trigger="Gateway config release adding a per-session rate-limit rule.",
        root_causes="*Draft: still being written with Platform.*\n\n"
        "- The rule counted client retries against the same limit as first attempts.",
        contributing_factors="",
        detection="Checkout success ratio alert after 3 minutes.",
        resolution="Platform reverted the gateway config release.",
        went_well="- Acknowledged in 8 minutes and restored inside the 2-hour target.",
        went_wrong="- The rule was not tested against checkout's retry pattern.",
        got_lucky="",
        timeline=(
            T(0, K.TRIGGER, "Gateway config release with the new rate-limit rule."),
            T(3, K.DETECTION, "Checkout success ratio alert."),
            T(11, K.ESCALATION, "Checkout on-call acknowledges; SEV1 declared; Platform joins."),
            T(22, K.COMMUNICATION, "Status page: “Some orders are failing at payment.”"),
            T(58, K.MITIGATION, "Gateway config release reverted."),
            T(64, K.RESOLUTION, "Checkout success back above 99.9 %."),
        ),
        action_items=(
            A(
                "Replay a day of real traffic against new gateway rules before release",
                ActionKind.PREVENT,
                "platform",
                "platform.engineer",
                from_today(28),
            ),
        ),
    ),
    ReviewSpec(
        title="Pods stuck pending after the node-pool upgrade",
        severity="SEV2",
        category="capacity",
        services=("kubernetes-platform",),
        journeys=(),
        author="platform.engineer",
        quarter=CURRENT_QUARTER,
        position=0.95,
        starts_at=time(15, 45),
        detect=9,
        acknowledge=21,
        restore=140,
        resolve=300,
        publish=False,
        summary="*Draft.* A node-pool upgrade drained nodes faster than the autoscaler replaced them; pods for "
        "several services stayed pending for up to 20 minutes and a few deployments paused.",
        customer_impact="No customer-facing errors measured; background jobs (recommendations, settlement "
        "files) ran late.",
        customers_affected=0,
        support_contacts=0,
        trigger="Node-pool upgrade started with a surge of 1.",
        root_causes="*To be completed.*",
        contributing_factors="",
        detection="Pod scheduling time alert after 9 minutes.",
        resolution="Upgrade paused; surge raised to 5.",
        went_well="- Acknowledged in 12 minutes.",
        went_wrong="",
        got_lucky="",
        timeline=(
            T(0, K.TRIGGER, "Node-pool upgrade starts."),
            T(9, K.DETECTION, "Pod scheduling p95 above 30 s."),
            T(21, K.ESCALATION, "Platform on-call acknowledges; SEV2."),
            T(60, K.MITIGATION, "Upgrade paused; surge raised."),
            T(140, K.RESOLUTION, "No pending pods for 15 minutes."),
        ),
        action_items=(
            A(
                "Upgrade node pools with a surge sized to the largest deployment",
                ActionKind.PREVENT,
                "platform",
                "platform.engineer",
                from_today(14),
            ),
        ),
    ),
)
