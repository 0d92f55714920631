from collections import defaultdict
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.history import ChangeRequestStamp
from sla_registry.choices import Channel, Duty
from sla_registry.models.governed import GovernedDocument


class EscalationMatrix(GovernedDocument):
    """Who is brought in, in which order, when an incident hits a service (ESC-0001…)."""

    REFERENCE_PREFIX = "ESC"

    title = models.CharField(max_length=200)
    service = models.OneToOneField("sla_registry.Service", on_delete=models.PROTECT, related_name="escalation_matrix")
    owner_team = models.ForeignKey(
        "sla_registry.Team", on_delete=models.PROTECT, related_name="escalation_matrices_owned"
    )
    notes = models.TextField(blank=True, help_text="Markdown. Anything responders should read first.")

    history = HistoricalRecords(bases=[ChangeRequestStamp])

    class Meta:
        ordering = ["pk"]
        verbose_name_plural = "escalation matrices"

    def get_absolute_url(self):
        return reverse("sla_registry:matrix_detail", kwargs={"reference": self.reference})


class EscalationStep(models.Model):
    """One tier of escalation for one severity: after `wait`, notify `team` through `channel`."""

    matrix = models.ForeignKey(EscalationMatrix, on_delete=models.CASCADE, related_name="steps")
    severity = models.ForeignKey("sla_registry.Severity", on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    wait = models.DurationField(help_text="How long to wait for an answer before escalating to the next level.")
    team = models.ForeignKey("sla_registry.Team", on_delete=models.PROTECT, related_name="escalation_steps")
    contact = models.CharField(
        max_length=100, blank=True, help_text="A named role or person in the team, e.g. “Payments on-call lead”."
    )
    channel = models.CharField(max_length=16, choices=Channel)
    fallback_channel = models.CharField(max_length=16, choices=Channel, blank=True)
    bring_timeline = models.BooleanField("bring the timeline so far", default=True)
    bring_affected_services = models.BooleanField("bring the affected services", default=True)
    bring_workarounds = models.BooleanField("bring known workarounds", default=False)

    history = HistoricalRecords(bases=[ChangeRequestStamp])

    class Meta:
        ordering = ["matrix", "severity__rank", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["matrix", "severity", "level"],
                name="escalation_step_unique_level",
                violation_error_message="This severity already has a step at this level.",
            ),
            models.CheckConstraint(condition=Q(level__gte=1), name="escalation_step_level_positive"),
            models.CheckConstraint(condition=Q(wait__gt=timedelta(0)), name="escalation_step_wait_positive"),
            models.CheckConstraint(
                condition=~Q(fallback_channel=F("channel")),
                name="escalation_step_fallback_differs",
                violation_error_message="The fallback channel must differ from the channel.",
            ),
        ]

    def __str__(self):
        return f"{self.severity} level {self.level}: {self.team}"

    def clean(self):
        errors = {}
        if self.wait is not None and self.wait <= timedelta(0):
            errors["wait"] = "The wait before escalating must be positive."
        if self.channel and self.fallback_channel == self.channel:
            errors["fallback_channel"] = "The fallback channel must differ from the channel."
        if errors:
            raise ValidationError(errors)

    @property
    def information_to_bring(self):
        wanted = [
            (self.bring_timeline, "timeline"),
            (self.bring_affected_services, "affected services"),
            (self.bring_workarounds, "known workarounds"),
        ]
        return [label for flag, label in wanted if flag]


def check_escalation_levels(steps):
    """Raise ValidationError unless each severity's levels run 1, 2, 3… without gaps.

    `steps` is an iterable of (severity, level) pairs, as a matrix's steps or a
    formset's rows; severities are anything printable and hashable.
    """
    levels_by_severity = defaultdict(list)
    for severity, level in steps:
        levels_by_severity[severity].append(level)
    errors = []
    for severity, levels in levels_by_severity.items():
        expected = list(range(1, len(levels) + 1))
        if sorted(levels) != expected:
            if len(set(levels)) != len(levels):
                problem = "a level appears twice"
            elif min(levels) != 1:
                problem = "it must start at level 1"
            else:
                problem = "levels must be contiguous"
            shown = ", ".join(str(level) for level in sorted(levels))
            errors.append(f"{severity}: levels {shown}: {problem}.")
    if errors:
        raise ValidationError(errors)


class Responsibility(models.Model):
    """Which team owns a duty (detection, command, customer communication…) during an incident, and when."""

    matrix = models.ForeignKey(EscalationMatrix, on_delete=models.CASCADE, related_name="responsibilities")
    duty = models.CharField(max_length=32, choices=Duty)
    team = models.ForeignKey("sla_registry.Team", on_delete=models.PROTECT, related_name="responsibilities")
    when = models.CharField(max_length=200, blank=True, help_text="e.g. “from declaration, every 30 minutes”.")

    history = HistoricalRecords(bases=[ChangeRequestStamp])

    class Meta:
        ordering = ["matrix", "duty", "team__name"]
        verbose_name_plural = "responsibilities"
        constraints = [
            models.UniqueConstraint(fields=["matrix", "duty", "team"], name="responsibility_unique_duty_team"),
        ]

    def __str__(self):
        return f"{self.get_duty_display()}: {self.team}"


class PlaybookStep(models.Model):
    """One time-boxed step of the incident playbook, ending in a checkpoint question."""

    matrix = models.ForeignKey(EscalationMatrix, on_delete=models.CASCADE, related_name="playbook_steps")
    position = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True, help_text="Markdown.")
    timebox_minutes = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    checkpoint_question = models.CharField(max_length=300, blank=True)

    history = HistoricalRecords(bases=[ChangeRequestStamp])

    class Meta:
        ordering = ["matrix", "position"]
        constraints = [
            models.UniqueConstraint(fields=["matrix", "position"], name="playbook_step_unique_position"),
            models.CheckConstraint(condition=Q(timebox_minutes__gte=1), name="playbook_step_timebox_positive"),
        ]

    def __str__(self):
        return f"{self.position}. {self.title}"
