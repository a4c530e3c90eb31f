"""`helpdesk accounts export|erase`: everything held about a person, then nothing that
names them, with the audit record of both; several workspaces need --workspace."""

from __future__ import annotations

import json

from click.testing import CliRunner, Result
from sqlalchemy import select

from bot.cli import cli
from services import accounts, incidents
from services.clock import utcnow
from storage.db import SessionFactory
from storage.models import (
    ActivatedService,
    Base,
    Conversation,
    Incident,
    PersonalDataEvent,
    QuestionLog,
    SlackLink,
    Subscription,
    UserPreference,
)
from tests.conversation_helpers import seed_demo

EMAIL = "demo@example.com"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _chat_traces(session_factory: SessionFactory, workspace: str = "T1") -> None:
    """What talking to the bot leaves: a link, a conversation, a preference, a question."""
    now = utcnow()
    with session_factory.begin() as session:
        account = accounts.get_account(session, EMAIL)
        accounts.link_slack_user(session, workspace, "UDEMO", account, now=now)
        session.add(
            Conversation(
                workspace_id=workspace,
                user_id="UDEMO",
                thread_key="DUDEMO",
                flow="file_incident",
                step="summary",
                slots={"run_id": "r1", "values": {"service": "OneTouch AT.com"}},
                history=[],
                updated_at=now,
            )
        )
        session.add(
            UserPreference(workspace_id=workspace, user_id="UDEMO", lang="fr", updated_at=now)
        )
        session.add(
            QuestionLog(
                at=now,
                workspace_id=workspace,
                user_id="UDEMO",
                question="my switch reboots",
                lang="en",
                answered=False,
            )
        )
        session.add(Subscription(account_id=account.id, service="Link Pro", type=1, tier="paid"))
        session.flush()
        incidents.create_incident(
            session,
            account,
            service="Link Pro",
            summary="Switch reboots at night",
            description="Every night at 3, call Demo Customer on +33 6 00 00 00 00.",
            actor=account.email,
        )


def test_export_prints_everything_held_and_is_recorded(
    session_factory: SessionFactory,
) -> None:
    seed_demo(session_factory, today=utcnow().date())
    _chat_traces(session_factory)
    result = run("accounts", "export", "--email", "Demo@Example.com", "--actor", "alice")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["account"]["email"] == EMAIL and data["account"]["name"] == "Demo Customer"
    assert data["chat_identities"] == [{"workspace": "T1", "user": "UDEMO"}]
    assert data["sites"][0]["city"] == "Lyon"
    assert {p["serial"] for p in data["products"]} >= {"QBQE160012345", "RX1M240003418"}
    assert data["activated_services"][0]["code"] == "****-****-K8NC"  # masked, never whole
    assert data["incidents"][-1]["summary"] == "Switch reboots at night"
    assert data["incidents"][-1]["events"][0]["actor"] == EMAIL
    assert data["conversations"][0]["values"] == {"service": "OneTouch AT.com"}
    assert data["preferences"][0]["lang"] == "fr"
    assert data["questions"][0]["question"] == "my switch reboots"
    with session_factory() as session:
        (record,) = session.scalars(select(PersonalDataEvent)).all()
    assert (record.action, record.actor, record.workspace_id) == ("export", "alice", "")
    assert record.account_id == data["account"]["id"]


def test_erase_leaves_nothing_that_names_the_person_and_keeps_the_records(
    session_factory: SessionFactory,
) -> None:
    seed_demo(session_factory, today=utcnow().date())
    _chat_traces(session_factory)
    with session_factory() as session:
        account_id = accounts.get_account(session, EMAIL).id
        activations = len(session.scalars(select(ActivatedService)).all())
    result = run("accounts", "erase", "--email", EMAIL, "--actor", "alice", "--json")
    assert result.exit_code == 0, result.stderr
    erased = json.loads(result.stdout)
    assert erased["account_id"] == account_id
    assert erased["erased"]["chat_identities_deleted"] == 1
    assert erased["erased"]["incident_events_pseudonymised"] >= 1

    # Nothing anywhere in the database still names them.
    with session_factory() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                held = " ".join(str(v) for v in row)
                for trace in (EMAIL, "Demo Customer", "Démo Réseaux"):
                    assert trace not in held, (table.name, trace)
        # The records others rely on are still there, the person's part pseudonymised.
        incident = session.scalars(select(Incident).where(Incident.account_id == account_id)).all()[
            -1
        ]
        assert incident.summary == "Switch reboots at night"
        assert incident.events[0].actor == f"erased-{account_id}"
        assert len(session.scalars(select(ActivatedService)).all()) == activations
        # The installation site an activation names stays: the service contract needs it.
        assert [a.site.city for a in session.scalars(select(ActivatedService))] == ["Lyon"]
        assert session.scalars(select(SlackLink)).all() == []
        assert session.scalars(select(Conversation)).all() == []
        question = session.scalars(select(QuestionLog)).one()
        assert (question.question, question.user_id) == ("my switch reboots", None)
        actions = [(e.action, e.actor) for e in session.scalars(select(PersonalDataEvent))]
    assert actions == [("erase", "alice")]
    again = run("accounts", "export", "--email", EMAIL, "--actor", "alice")
    assert again.exit_code == 1
    assert again.stderr.startswith("error: No account uses the e-mail address demo@example.com")


def test_an_email_in_two_workspaces_needs_workspace(session_factory: SessionFactory) -> None:
    with session_factory.begin() as session:
        accounts.create_account(session, email="joe@example.com", name="Joe One", workspace="T1")
        accounts.create_account(session, email="joe@example.com", name="Joe Two", workspace="T2")
    ambiguous = run("accounts", "erase", "--email", "joe@example.com", "--actor", "alice")
    assert ambiguous.exit_code == 2
    assert ambiguous.stderr.strip() == (
        "error: joe@example.com has accounts in several workspaces (T1, T2): "
        "say which one with --workspace."
    )
    done = run(
        "accounts", "erase", "--email", "joe@example.com", "--workspace", "T2", "--actor", "alice"
    )
    assert done.exit_code == 0, done.stderr
    kept = run("accounts", "export", "--email", "joe@example.com", "--actor", "alice")
    assert kept.exit_code == 0  # only T1's is left: no --workspace needed any more
    assert json.loads(kept.stdout)["account"]["name"] == "Joe One"


def test_an_unknown_email_or_a_bad_actor_exit_1_and_2(session_factory: SessionFactory) -> None:
    unknown = run("accounts", "export", "--email", "nobody@example.com", "--actor", "alice")
    assert unknown.exit_code == 1 and len(unknown.stderr.strip().splitlines()) == 1
    no_actor = run("accounts", "erase", "--email", "nobody@example.com")
    assert no_actor.exit_code == 2 and "--actor" in no_actor.stderr
