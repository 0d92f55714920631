"""What the registry's pages share: document lookup by reference, history pages, form handling.

Every list and detail page reads with a fixed number of queries however many
rows it shows (select_related, prefetch_related, annotate); tests pin the
counts. Every write goes through sla_registry.actions, so a page edit is
validated and recorded in history like any other.
"""

import copy

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import DetailView

from core.history import change_sets

PAGE_SIZE = 25


# Shared building blocks ------------------------------------------------------


class DocumentLookupMixin:
    """Finds a governed document by its reference (SLA-0007, ESC-0003); anything else is a 404.

    `history_url_name` names the document's History tab, for the tabs shared by its pages.
    """

    history_url_name = None

    def get_object(self, queryset=None):
        queryset = self.get_queryset() if queryset is None else queryset
        reference = self.kwargs["reference"]
        pk = self.model.pk_from_reference(reference)
        if pk is None:
            raise Http404(f"“{reference}” is not a {self.model._meta.verbose_name} reference.")
        return get_object_or_404(queryset, pk=pk)


class HistoryView(DetailView):
    """The History tab of an object: readable change sets, newest first, 25 per page."""

    template_name = "sla_registry/object_history.html"
    governed = False  # True for SLAs and matrices: only change requests may write them

    def history_sources(self):
        """(historical rows, label function) pairs, as core.history.change_sets() takes them."""
        return [(self.object.history.all(), lambda row, names: str(self.object))]

    def get_context_data(self, **kwargs):
        paginator = Paginator(change_sets(*self.history_sources(), governed=self.governed), PAGE_SIZE)
        page = paginator.get_page(self.request.GET.get("page"))
        return super().get_context_data(change_sets=page.object_list, page_obj=page, **kwargs)


def add_action_errors(form, error):
    """Show a ValidationError raised by an action on the form: on the field it names, else above the form."""
    if hasattr(error, "error_dict"):
        for field, field_messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_messages)
    else:
        form.add_error(None, error.messages)


class RegistryFormMixin(PermissionRequiredMixin):
    """A create or edit page: checks the model permission, writes through an action, then redirects.

    Subclasses set `model`, `form_class`, `permission_required`, `list_url_name`
    and implement `save_object(form)` by calling the model's action.
    """

    raise_exception = True
    template_name = "sla_registry/object_form.html"
    list_url_name = None

    def save_object(self, form):
        raise NotImplementedError

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if self.object is not None:
            # The form cleans a copy, so a rejected edit leaves the page's title
            # and Cancel link on the saved object rather than on the rejected input.
            kwargs["instance"] = copy.copy(self.object)
        return kwargs

    def form_valid(self, form):
        try:
            self.object = self.save_object(form)
        except ValidationError as error:
            add_action_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Saved {self.model._meta.verbose_name} “{self.object}”.")
        return redirect(self.object)

    def get_context_data(self, **kwargs):
        verbose_name = self.model._meta.verbose_name
        if self.object is None:
            heading, cancel_url = f"New {verbose_name}", reverse(self.list_url_name)
        else:
            heading, cancel_url = f"Edit {verbose_name} {self.object}", self.object.get_absolute_url()
        return super().get_context_data(heading=heading, cancel_url=cancel_url, **kwargs)


def reason(form):
    return form.cleaned_data["reason"]
