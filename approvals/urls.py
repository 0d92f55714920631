from django.urls import path

from approvals import views

app_name = "approvals"
urlpatterns = [
    path("changes/", views.change_request_list, name="change_request_list"),
    path("changes/mine/", views.my_requests, name="my_requests"),
    path("changes/approvals/", views.my_approvals, name="my_approvals"),
    path(
        "changes/emergency/<int:pk>/acknowledge/", views.acknowledge_emergency_grant, name="acknowledge_emergency_grant"
    ),
    path("changes/<str:reference>/", views.change_request_detail, name="change_request_detail"),
    path("changes/<str:reference>/submit/", views.submit, name="submit"),
    path("changes/<str:reference>/decide/", views.decide, name="decide"),
    path("changes/<str:reference>/withdraw/", views.withdraw, name="withdraw"),
    path("changes/<str:reference>/rebase/", views.rebase, name="rebase"),
]
