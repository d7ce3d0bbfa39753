"""The shell: login/logout, one's own password, home page."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from . import backups, passwords, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password/", passwords.OwnPasswordView.as_view(), name="password_change"),
    path("messages/", views.messages_list, name="messages"),
    path("messages/<int:pk>/read/", views.message_read, name="message_read"),
    path("system/backups/", backups.backups, name="backups"),
    path("system/backups/make/", backups.make, name="backup_make"),
    path("system/backups/<str:name>/", backups.download, name="backup_download"),
    path("", views.home, name="home"),
]
