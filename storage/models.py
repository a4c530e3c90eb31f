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
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
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


# The workspace of the console, the command line and the single-token Slack mode.
DEFAULT_WORKSPACE = ""


class Account(Base):
    """A support-portal account; owns sites, products, activations, subscriptions, incidents.

    An account belongs to one workspace (OAuth mode: the Slack team it was created from):
    the same e-mail in two workspaces is two accounts, and nothing of one is seen from the
    other. Incidents, products and the rest are scoped through their account.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("workspace_id", "email", name="uq_accounts_workspace_id_email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        String(32), default=DEFAULT_WORKSPACE, server_default=""
    )
    email: Mapped[str] = mapped_column(String(254))  # stored lower-cased
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
    # The first-response time the catalogue promises for this service (None: no promise).
    first_response_hours: Mapped[int | None] = mapped_column(Integer)

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
    # An incident is on a subscription, or on a registered product under its active DAS
    # service (then no subscription, and a deadline only if the catalogue gives one).
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"))
    subscription_type: Mapped[int | None] = mapped_column(
        Integer
    )  # copied: the SLA is fixed at filing
    product_id: Mapped[int | None] = mapped_column(ForeignKey("registered_products.id"))
    activated_service_id: Mapped[int | None] = mapped_column(ForeignKey("activated_services.id"))
    summary: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(24), index=True)
    lang: Mapped[str] = mapped_column(String(5), default="en")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    first_response_due: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    first_response_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sla_warned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The deadline passed unanswered and the triage channel was told (services.deadlines).
    sla_alerted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # A process posting a deadline notice holds the incident until then (a lease, so a
    # crash between the post and its record delays the notice instead of losing it).
    sla_notice_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Satisfaction (services.satisfaction): asked once, the latest rating counts.
    csat_asked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    csat_survey_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    csat_rating: Mapped[int | None] = mapped_column(Integer)
    csat_comment: Mapped[str | None] = mapped_column(Text)
    csat_rated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    assignee: Mapped[str | None] = mapped_column(String(100))
    # Set by callers that may retry (Slack redeliveries, double clicks): the same key
    # returns the incident already filed instead of a second one.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # Its card in the triage channel, and the last event the card (and its thread, and
    # the customer's DM) reflects: the outbox the triage job works from.
    card_channel: Mapped[str | None] = mapped_column(String(32))
    card_ts: Mapped[str | None] = mapped_column(String(32), index=True)
    card_synced_event: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the card was last drawn: its "time left" is redrawn while the clock runs.
    card_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    subscription: Mapped[Subscription | None] = relationship()
    product: Mapped[RegisteredProduct | None] = relationship()
    activated_service: Mapped[ActivatedService | None] = relationship()
    account: Mapped[Account] = relationship()
    events: Mapped[list[IncidentEvent]] = relationship(
        back_populates="incident", order_by="IncidentEvent.id", cascade="all, delete-orphan"
    )

    @property
    def service_name(self) -> str:
        """What the incident is on: its subscription, or the DAS service of its product."""
        if self.subscription is not None:
            return self.subscription.service
        return self.activated_service.service if self.activated_service is not None else ""


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
    # The Slack message this event is (a reply delivered to the customer's DM, a note
    # typed in the card's thread): answers in its thread belong to the incident.
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32), index=True)

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


class KbVersion(Base):
    """A published KB version: the article files as they were published, so every bot
    process serves exactly this content whatever is on its disk since (an editor's file
    half-written, a broken article), and a restarted process serves it too."""

    __tablename__ = "kb_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), index=True)  # kb.articles.content_hash
    articles: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    published_by: Mapped[str] = mapped_column(String(100))
    # Relative path → text. Deferred: the every-few-seconds check reads id and digest only.
    files: Mapped[dict[str, str]] = mapped_column(JSON, deferred=True)


class PersonalDataEvent(Base):
    """The audit record of an export or an erasure of a person's data: who asked, when,
    what was done. It names the account by id only: it must not hold again the identity
    an erasure removed."""

    __tablename__ = "personal_data_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(16))  # "export" | "erase"
    workspace_id: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[int] = mapped_column(Integer)  # no foreign key: the record outlives it
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --- Slack OAuth (many workspaces) -----------------------------------------------------
# The tables slack_sdk's SQLAlchemy installation and OAuth-state stores read and write,
# column for column as they define them (naive UTC times, their own index names). They
# are declared here so that migrations, not the app's start-up, create them.

slack_installations = Table(
    "slack_installations",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("enterprise_url", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", String(200)),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", String(200)),
    Column("bot_token_expires_at", DateTime),
    Column("user_id", String(32), nullable=False),
    Column("user_token", String(200)),
    Column("user_scopes", String(1000)),
    Column("user_refresh_token", String(200)),
    Column("user_token_expires_at", DateTime),
    Column("incoming_webhook_url", String(200)),
    Column("incoming_webhook_channel", String(200)),
    Column("incoming_webhook_channel_id", String(200)),
    Column("incoming_webhook_configuration_url", String(200)),
    Column("is_enterprise_install", Boolean, default=False, nullable=False),
    Column("token_type", String(32)),
    Column("installed_at", DateTime, nullable=False, default=func.now()),
    Index(
        "slack_installations_idx",
        "client_id",
        "enterprise_id",
        "team_id",
        "user_id",
        "installed_at",
    ),
)

slack_bots = Table(
    "slack_bots",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", String(200)),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", String(200)),
    Column("bot_token_expires_at", DateTime),
    Column("is_enterprise_install", Boolean, default=False, nullable=False),
    Column("installed_at", DateTime, nullable=False, default=func.now()),
    Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
)

slack_oauth_states = Table(
    "slack_oauth_states",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(200), nullable=False),
    Column("expire_at", DateTime, nullable=False),
)
