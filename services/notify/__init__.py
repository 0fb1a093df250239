"""Notify: every message to customers and staff, in the right language, channel and hour."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from services.notify.channels import Channel, SmtpChannel, SmtpSettings, provider_channels_from_env
from services.notify.directory import directory
from services.notify.reports import ReportJob, activity
from services.notify.subscribers import current_config, messages
from shared.background import BackgroundJob
from shared.bus.subscriber import Subscriber
from shared.config import ConfigurationError, Settings
from shared.db import Database
from shared.web import create_service_app

NAME = "notify"
MIGRATIONS = Path(__file__).parent / "migrations"
SUBSCRIBERS: list[Subscriber] = [directory, messages, activity]


def local_maildir(settings: Settings) -> Path:
    return settings.data_dir / "mail"


def uses_local_mail(settings: Settings) -> bool:
    return settings.embedded_bus and not os.environ.get("CORTESIA_SMTP_HOST")


def background_jobs(settings: Settings, database: Database) -> list[BackgroundJob]:
    """The dispatcher, the monthly reports, and in embedded mode without an SMTP server,
    the local one."""
    from services.notify.dispatcher import Dispatcher
    from services.notify.local_mail import LocalMailServer

    config = current_config()
    jobs: list[BackgroundJob] = []
    if uses_local_mail(settings):
        server = LocalMailServer(local_maildir(settings))
        jobs.append(server)
        smtp = SmtpSettings(
            host="127.0.0.1",
            port=server.port,
            security="none",
            from_address=config.support_email,
            from_name=config.company_name,
        )
    else:
        try:
            smtp = SmtpSettings.from_env()
        except ValueError as error:
            raise ConfigurationError(f"notify cannot send email: {error}") from None
    channels: dict[str, Channel] = {"email": SmtpChannel(smtp), **provider_channels_from_env()}
    jobs.append(Dispatcher(database, channels, config))
    jobs.append(ReportJob(database, config))
    return jobs


def create_app(
    settings: Settings, database: Database, bus_database: Database | None = None
) -> Flask:
    from services.notify.views import init_views

    app = create_service_app(__name__, settings, database, bus_database=bus_database)
    init_views(app, settings)
    return app
