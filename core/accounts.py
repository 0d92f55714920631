"""Password reset that also signs in and lifts a login lock: the way back for a user someone else locked out.

Login throttling locks a username after repeated wrong passwords from anywhere, so
anyone who knows a username can lock its owner out. The owner is not held hostage:
the reset link, sent to the address on their account, proves who they are, so
setting a new password through it signs them in (without the locked password
check) and clears the failures recorded against their username.
"""

from axes.models import AccessAttempt
from axes.utils import reset as reset_login_failures
from django.contrib import messages
from django.contrib.auth.views import PasswordResetConfirmView
from django.urls import reverse_lazy


class ResetAndSignInView(PasswordResetConfirmView):
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        username = form.user.get_username()
        cleared = AccessAttempt.objects.filter(username=username).exists()
        response = super().form_valid(form)
        reset_login_failures(username=username)
        messages.success(
            self.request,
            "Your password is changed and you are signed in."
            + (" The lock on your username is lifted." if cleared else ""),
        )
        return response
