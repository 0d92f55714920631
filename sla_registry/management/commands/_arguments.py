"""What the import commands share: reading the file and the --user they name (not a command itself)."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from sla_registry.formats.yaml_documents import YAMLFileError, read_file


def read_text(path):
    """The UTF-8 text of `path`, or CommandError naming why it cannot be read."""
    try:
        return read_file(path)
    except YAMLFileError as error:
        raise CommandError(str(error)) from None


def find_user(username, *, role):
    """The user named by --user, or CommandError saying there is none and what --user is for."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"There is no user {username!r}; --user names {role}.")
    return user
