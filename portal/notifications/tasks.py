from django_tasks import task

from portal.notifications.outbox import deliver_due


@task()
def deliver_notifications():
    """Deliver what is due in the outbox (run by `manage.py db_worker`)."""
    sent, failed = deliver_due()
    return {"sent": sent, "failed": failed}
