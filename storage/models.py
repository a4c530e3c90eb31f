"""The shared data store: every table of the helpdesk, as typed SQLAlchemy 2 models.

Schema changes go through Alembic migrations (storage/migrations), never `create_all`.
Times are stored as timezone-aware UTC; calendar dates as dates.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend (SQLite drops offsets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    pass


class Account(Base):
    """A support-portal account; owns sites, products, activations, subscriptions, incidents."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    sites: Mapped[list[SiteAddress]] = relationship(
        back_populates="account", order_by="SiteAddress.id"
    )
    slack_links: Mapped[list[SlackLink]] = relationship(back_populates="account")


class SlackLink(Base):
    """A Slack user is linked to exactly one account per workspace."""

    __tablename__ = "slack_links"
    __table_args__ = (UniqueConstraint("workspace_id", "slack_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(32))
    slack_user_id: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    account: Mapped[Account] = relationship(back_populates="slack_links")


class SiteAddress(Base):
    """A physical site of an account: where products are installed."""

    __tablename__ = "site_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    street: Mapped[str] = mapped_column(String(300))
    postal_code: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    account: Mapped[Account] = relationship(back_populates="sites")


class ProductModel(Base):
    """A model of the product catalogue, with the pattern its serial numbers follow."""

    __tablename__ = "product_models"

    model: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    serial_pattern: Mapped[str] = mapped_column(
        String(200)
    )  # regex, full match on the normalised serial

    das_services: Mapped[list[ModelDasService]] = relationship(
        back_populates="product_model",
        cascade="all, delete-orphan",
        order_by="ModelDasService.service",
    )


class ModelDasService(Base):
    """Which DAS services the catalogue says apply to which model."""

    __tablename__ = "model_das_services"

    model: Mapped[str] = mapped_column(
        ForeignKey("product_models.model", ondelete="CASCADE"), primary_key=True
    )
    service: Mapped[str] = mapped_column(String(100), primary_key=True)

    product_model: Mapped[ProductModel] = relationship(back_populates="das_services")


class RegisteredProduct(Base):
    """A product registered by an account. A serial number is registered at most once."""

    __tablename__ = "registered_products"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    model: Mapped[str] = mapped_column(ForeignKey("product_models.model"))
    serial: Mapped[str] = mapped_column(String(64), unique=True)  # normalised
    purchase_date: Mapped[dt.date] = mapped_column(Date)
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("site_addresses.id", ondelete="SET NULL")
    )
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    product_model: Mapped[ProductModel] = relationship()
    site: Mapped[SiteAddress | None] = relationship()


class ActivationCode(Base):
    """A DAS activation code sent by the supplier and imported by staff.

    The code itself is a secret and is never stored: only its keyed hash (services.codes)
    and the few last characters its mask shows.
    """

    __tablename__ = "activation_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)  # HMAC-SHA256, hex
    code_tail: Mapped[str] = mapped_column(String(4))  # what "****-****-7F3A" shows
    service: Mapped[str] = mapped_column(String(100))
    models: Mapped[list[str]] = mapped_column(JSON)  # eligible catalogue models
    purchase_date: Mapped[dt.date | None] = mapped_column(Date)  # service purchase date, if known
    duration_months: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    used_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )


class ActivatedService(Base):
    """A DAS service activated on a registered product. One activation per code, ever."""

    __tablename__ = "activated_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int] = mapped_column(
        ForeignKey("registered_products.id", ondelete="CASCADE")
    )
    code_id: Mapped[int] = mapped_column(ForeignKey("activation_codes.id"), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site_addresses.id"))
    service: Mapped[str] = mapped_column(String(100))
    service_purchase_date: Mapped[dt.date] = mapped_column(Date)
    terms_accepted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    activated_on: Mapped[dt.date] = mapped_column(Date)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    product: Mapped[RegisteredProduct] = relationship()
    code: Mapped[ActivationCode] = relationship()
    site: Mapped[SiteAddress] = relationship()


class CodeAttempt(Base):
    """A failed activation-code attempt, for the per-account rate limit."""

    __tablename__ = "code_attempts"
    __table_args__ = (Index("ix_code_attempts_account_at", "account_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(64))


class Subscription(Base):
    """A subscription service held by an account: type 1, 2 or 3, tier free or paid."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("account_id", "service"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    service: Mapped[str] = mapped_column(String(100))
    type: Mapped[int] = mapped_column(Integer)
    tier: Mapped[str] = mapped_column(String(8))  # "free" | "paid"


class PendingSubscription(Base):
    """A subscription imported for an e-mail that has no account yet.

    Subscriptions come from billing, accounts from the customers themselves (the bot creates
    one on first need): the row waits here and becomes a Subscription when an account with
    this e-mail is created.
    """

    __tablename__ = "pending_subscriptions"
    __table_args__ = (UniqueConstraint("email", "service"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)  # normalised
    service: Mapped[str] = mapped_column(String(100))
    type: Mapped[int] = mapped_column(Integer)
    tier: Mapped[str] = mapped_column(String(8))


class Incident(Base):
    """A support incident. `number` is the human-friendly id, e.g. INC-000123."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(16), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    subscription_type: Mapped[int] = mapped_column(Integer)  # copied: the SLA is fixed at filing
    summary: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(24), index=True)
    lang: Mapped[str] = mapped_column(String(5), default="en")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    first_response_due: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    first_response_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sla_warned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    assignee: Mapped[str | None] = mapped_column(String(100))
    # Set by callers that may retry (Slack redeliveries, double clicks): the same key
    # returns the incident already filed instead of a second one.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)

    subscription: Mapped[Subscription] = relationship()
    account: Mapped[Account] = relationship()
    events: Mapped[list[IncidentEvent]] = relationship(
        back_populates="incident", order_by="IncidentEvent.id", cascade="all, delete-orphan"
    )


class IncidentEvent(Base):
    """The audit trail: who did what to an incident, and when."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(254))
    actor_role: Mapped[str] = mapped_column(String(16))  # customer, staff or system
    kind: Mapped[str] = mapped_column(
        String(32)
    )  # created, status_changed, reply, comment, assigned
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    # "assigned": who had the incident before (None: nobody) and who has it now.
    from_assignee: Mapped[str | None] = mapped_column(String(100))
    to_assignee: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)

    incident: Mapped[Incident] = relationship(back_populates="events")


class UserPreference(Base):
    """What the bot remembers of a chat user: language and time zone."""

    __tablename__ = "user_preferences"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str | None] = mapped_column(String(5))
    # Asked for in so many words ("en français please"): kept whatever the language of
    # later messages, until the user asks for another.
    lang_chosen: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    tz: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Conversation(Base):
    """The state of a multi-step flow, so any process continues it at the same step."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id", "thread_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(64))
    thread_key: Mapped[str] = mapped_column(String(100))  # DM/channel + thread, or "console"
    flow: Mapped[str | None] = mapped_column(String(50))
    step: Mapped[str | None] = mapped_column(String(50))
    slots: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    history: Mapped[list[str]] = mapped_column(JSON, default=list)  # slots filled, for "back"
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy declares it)


class QuestionLog(Base):
    """Every question put to the KB and what the bot answered, for editors."""

    __tablename__ = "question_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    workspace_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(5))
    answered: Mapped[bool] = mapped_column(Boolean)
    slug: Mapped[str | None] = mapped_column(String(100))
    score: Mapped[float | None]


class ArticleFeedback(Base):
    """ "Was this helpful?" votes on KB answers."""

    __tablename__ = "article_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    workspace_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(64))
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("question_log.id", ondelete="SET NULL")
    )
    slug: Mapped[str] = mapped_column(String(100), index=True)
    lang: Mapped[str] = mapped_column(String(5))
    helpful: Mapped[bool] = mapped_column(Boolean)


class InboxDelivery(Base):
    """A Slack delivery acknowledged (bot.slack.inbox): stored before the ack, keyed by its
    delivery key (the de-duplication: the first insert wins), leased by one worker at a
    time, marked done once handled; kept a day after that so retries stay recognised."""

    __tablename__ = "event_inbox"
    __table_args__ = (
        Index("ix_event_inbox_pending", "done_at", "received_at"),
        # "The earlier deliveries of this lane not done yet", without reading its done ones.
        Index("ix_event_inbox_lane", "lane", "done_at", "received_at"),
    )

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # Deliveries of one lane (a user in a workspace) are handled one at a time, in order.
    lane: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[str] = mapped_column(Text)  # JSON: the headers bolt reads
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
