"""Everything held about a person, exported or erased (`helpdesk accounts export|erase`).

An account is found by e-mail within one workspace; an e-mail with accounts in several
workspaces must be told which (`AmbiguousAccount`). Both actions leave an audit record
(`PersonalDataEvent`: who, when, what) that names the account by id only.

Erasure removes what identifies the person and keeps what others rely on:
- the account row stays (incidents, products and activations hang on it) with its
  e-mail, name, company and country replaced by a pseudonym ("erased-<id>");
- their chat identities go: Slack links, conversations, remembered preferences; their
  questions to the KB and their votes stay for the editors, no longer tied to them;
- incidents keep their whole audit trail, the customer's own entries signed by the
  pseudonym instead of their e-mail, and their e-mail and name replaced by it wherever
  the texts (summary, description, notes) hold them;
- activation records keep what the service contract needs (product, serial, code mask,
  dates, the installation site they name); sites no activation names are deleted;
- failed code attempts and pending subscriptions for the e-mail are deleted.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import and_, delete, false, or_, select, update
from sqlalchemy.orm import Session

from services.accounts import accounts_with_email, normalize_email
from services.clock import utcnow
from services.codes import mask_tail
from services.errors import N_, AccountNotFound, Refusal
from storage.models import (
    Account,
    ActivatedService,
    ArticleFeedback,
    CodeAttempt,
    Conversation,
    Incident,
    IncidentEvent,
    PendingSubscription,
    PersonalDataEvent,
    QuestionLog,
    RegisteredProduct,
    SiteAddress,
    SlackLink,
    Subscription,
    UserPreference,
)

EXPORT = "export"
ERASE = "erase"
ERASED_DOMAIN = "erased.invalid"  # RFC 2606: never a real mailbox


class AmbiguousAccount(Refusal):
    code = "ambiguous_account"
    message = N_(
        "{email} has accounts in several workspaces ({workspaces}): say which one with --workspace."
    )


def find_person(session: Session, email: str, workspace: str | None) -> Account:
    """The account of `email` in `workspace`; without one, the only account with it."""
    found = accounts_with_email(session, email)
    if workspace is not None:
        found = [account for account in found if account.workspace_id == workspace]
    if not found:
        raise AccountNotFound(email=email.strip())
    if len(found) > 1:
        names = ", ".join(_workspace_name(account.workspace_id) for account in found)
        raise AmbiguousAccount(email=normalize_email(email), workspaces=names)
    return found[0]


def _workspace_name(workspace: str) -> str:
    return workspace or "default"


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _identities(session: Session, account: Account) -> list[tuple[str, str]]:
    links = session.scalars(select(SlackLink).where(SlackLink.account_id == account.id))
    return [(link.workspace_id, link.slack_user_id) for link in links]


def _by_identity(model: Any, identities: list[tuple[str, str]]) -> Any:
    """Rows of `model` (keyed by workspace and chat user) of one of these identities."""
    if not identities:
        return false()
    return or_(*(and_(model.workspace_id == w, model.user_id == u) for w, u in identities))


def export_person(
    session: Session, account: Account, *, actor: str, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Everything held about the account's person, as JSON-ready data."""
    identities = _identities(session, account)
    data: dict[str, Any] = {
        "account": {
            "id": account.id,
            "workspace": account.workspace_id,
            "email": account.email,
            "name": account.name,
            "company": account.company,
            "country": account.country,
            "created_at": _iso(account.created_at),
        },
        "chat_identities": [{"workspace": w, "user": u} for w, u in identities],
        "sites": [
            {
                "id": s.id,
                "street": s.street,
                "postal_code": s.postal_code,
                "city": s.city,
                "country": s.country,
                "created_at": _iso(s.created_at),
            }
            for s in session.scalars(
                select(SiteAddress).where(SiteAddress.account_id == account.id)
            )
        ],
        "products": [
            {
                "id": p.id,
                "model": p.model,
                "serial": p.serial,
                "purchase_date": _iso(p.purchase_date),
                "site_id": p.site_id,
                "registered_at": _iso(p.registered_at),
            }
            for p in session.scalars(
                select(RegisteredProduct).where(RegisteredProduct.account_id == account.id)
            )
        ],
        "activated_services": [
            {
                "id": a.id,
                "service": a.service,
                "product_id": a.product_id,
                "site_id": a.site_id,
                "code": mask_tail(a.code.code_tail),
                "service_purchase_date": _iso(a.service_purchase_date),
                "terms_accepted_at": _iso(a.terms_accepted_at),
                "activated_on": _iso(a.activated_on),
                "starts_on": _iso(a.starts_on),
                "ends_on": _iso(a.ends_on),
            }
            for a in session.scalars(
                select(ActivatedService).where(ActivatedService.account_id == account.id)
            )
        ],
        "subscriptions": [
            {"service": s.service, "type": s.type, "tier": s.tier}
            for s in session.scalars(
                select(Subscription).where(Subscription.account_id == account.id)
            )
        ],
        "failed_code_attempts": [
            {"at": _iso(c.at), "reason": c.reason}
            for c in session.scalars(
                select(CodeAttempt).where(CodeAttempt.account_id == account.id)
            )
        ],
        "incidents": [_incident_json(i) for i in _incidents(session, account)],
        "conversations": [
            {
                "workspace": c.workspace_id,
                "user": c.user_id,
                "thread": c.thread_key,
                "flow": c.flow,
                "step": c.step,
                "values": (c.slots or {}).get("values", {}),
                "updated_at": _iso(c.updated_at),
            }
            for c in session.scalars(
                select(Conversation).where(_by_identity(Conversation, identities))
            )
        ],
        "preferences": [
            {"workspace": p.workspace_id, "user": p.user_id, "lang": p.lang, "tz": p.tz}
            for p in session.scalars(
                select(UserPreference).where(_by_identity(UserPreference, identities))
            )
        ],
        "questions": [
            {"at": _iso(q.at), "question": q.question, "lang": q.lang, "answered": q.answered}
            for q in session.scalars(
                select(QuestionLog).where(_by_identity(QuestionLog, identities))
            )
        ],
        "article_feedback": [
            {"at": _iso(f.at), "slug": f.slug, "lang": f.lang, "helpful": f.helpful}
            for f in session.scalars(
                select(ArticleFeedback).where(_by_identity(ArticleFeedback, identities))
            )
        ],
    }
    _audit(session, account, EXPORT, actor, now, {"sections": sorted(data)})
    return data


def _incidents(session: Session, account: Account) -> list[Incident]:
    return list(
        session.scalars(
            select(Incident).where(Incident.account_id == account.id).order_by(Incident.id)
        )
    )


def _incident_json(incident: Incident) -> dict[str, Any]:
    return {
        "number": incident.number,
        "service": incident.service_name,
        "summary": incident.summary,
        "description": incident.description,
        "status": incident.status,
        "created_at": _iso(incident.created_at),
        "events": [
            {
                "at": _iso(e.at),
                "actor": e.actor,
                "role": e.actor_role,
                "kind": e.kind,
                "note": e.note,
            }
            for e in incident.events
        ],
    }


def erase_person(
    session: Session, account: Account, *, actor: str, now: dt.datetime | None = None
) -> dict[str, int]:
    """Remove or pseudonymise the person's data (see the module's docstring); what was
    done, counted."""
    identities = _identities(session, account)
    pseudonym = f"erased-{account.id}"
    email = account.email
    done: dict[str, int] = {}

    def count(key: str, result: Any) -> None:
        done[key] = int(result.rowcount)

    own = _incidents(session, account)
    incident_ids = [i.id for i in own]
    scrub = _scrubber([email, account.name], pseudonym)
    scrubbed = 0
    for incident in own:
        for holder, attr in [
            (incident, "summary"),
            (incident, "description"),
            *((event, "note") for event in incident.events),
        ]:
            text = getattr(holder, attr)
            if text and scrub(text) != text:
                setattr(holder, attr, scrub(text))
                scrubbed += 1
    done["incident_texts_scrubbed"] = scrubbed
    if incident_ids:
        count(
            "incident_events_pseudonymised",
            session.execute(
                update(IncidentEvent)
                .where(IncidentEvent.incident_id.in_(incident_ids), IncidentEvent.actor == email)
                .values(actor=pseudonym)
            ),
        )
    used_sites = select(ActivatedService.site_id).where(ActivatedService.account_id == account.id)
    session.execute(
        update(RegisteredProduct)
        .where(
            RegisteredProduct.account_id == account.id, RegisteredProduct.site_id.not_in(used_sites)
        )
        .values(site_id=None)
    )
    count(
        "sites_deleted",
        session.execute(
            delete(SiteAddress).where(
                SiteAddress.account_id == account.id, SiteAddress.id.not_in(used_sites)
            )
        ),
    )
    count(
        "code_attempts_deleted",
        session.execute(delete(CodeAttempt).where(CodeAttempt.account_id == account.id)),
    )
    count(
        "pending_subscriptions_deleted",
        session.execute(delete(PendingSubscription).where(PendingSubscription.email == email)),
    )
    for model, key in ((QuestionLog, "questions_unlinked"), (ArticleFeedback, "feedback_unlinked")):
        count(
            key,
            session.execute(
                update(model)
                .where(_by_identity(model, identities))
                .values(workspace_id=None, user_id=None)
            ),
        )
    count(
        "conversations_deleted",
        session.execute(delete(Conversation).where(_by_identity(Conversation, identities))),
    )
    count(
        "preferences_deleted",
        session.execute(delete(UserPreference).where(_by_identity(UserPreference, identities))),
    )
    count(
        "chat_identities_deleted",
        session.execute(delete(SlackLink).where(SlackLink.account_id == account.id)),
    )
    account.email = f"{pseudonym}@{ERASED_DOMAIN}"
    account.name = pseudonym
    account.company = None
    account.country = None
    session.flush()
    _audit(session, account, ERASE, actor, now, done)
    return done


def _scrubber(names: list[str], pseudonym: str) -> Any:
    """Their e-mail and name where they wrote them (case aside) become the pseudonym."""
    wanted = [re.escape(n) for n in sorted({n for n in names if n and n.strip()}, key=len)[::-1]]
    if not wanted:
        return lambda text: text
    pattern = re.compile("|".join(wanted), re.IGNORECASE)
    return lambda text: pattern.sub(pseudonym, text)


def _audit(
    session: Session,
    account: Account,
    action: str,
    actor: str,
    now: dt.datetime | None,
    detail: dict[str, Any],
) -> None:
    session.add(
        PersonalDataEvent(
            at=now or utcnow(),
            actor=actor,
            action=action,
            workspace_id=account.workspace_id,
            account_id=account.id,
            detail=detail,
        )
    )
    session.flush()
