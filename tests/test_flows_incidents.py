"""Incidents through the conversation: filing (free tiers refused kindly), status, my incidents.

The demo customer holds every subscription type in both tiers. NOW is Monday 23 November
2026, 15:00 UTC; the first-response deadline is shown in the user's zone and language.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from bot.conversation import Assistant
from bot.settings import Settings
from services import accounts, incidents
from storage.db import SessionFactory
from tests.conversation_helpers import NOW, Chat, choices_of, text_of, user


def _incidents(
    session_factory: SessionFactory, email: str = "demo@example.com"
) -> list[tuple[str, str, str, str]]:
    with session_factory() as session:
        account = accounts.get_account(session, email)
        return [
            (i.number or "", i.subscription.service, i.summary, i.lang)
            for i in incidents.list_incidents(session, account=account)
        ]


def test_filing_in_english(assistant: Assistant, session_factory: SessionFactory) -> None:
    chat = Chat(assistant, user("U-demo", lang="en", tz="America/New_York"))
    out = chat.say("I want to report an incident")
    assert out.waiting_for == "subscription"
    values = [value for value, _ in choices_of(out)]
    assert values[:3] == ["LinkSprinter.com", "Nuclias Cloud Pro", "OneTouch AT.com"]  # paid first

    out = chat.say("Nuclias Cloud Basic")
    assert "is a free subscription" in text_of(out) and "knowledge base" in text_of(out)
    assert out.waiting_for == "subscription"
    out = chat.say("Spotify")
    assert "no subscription to Spotify" in text_of(out) and out.waiting_for == "subscription"
    assert chat.say("OneTouch AT.com (type 2, paid)").waiting_for == "summary"
    assert chat.say("x" * 201).waiting_for == "summary"  # too long for a one-line summary
    assert chat.say("Probe cannot reach the cloud").waiting_for == "description"
    out = chat.say(
        "Since this morning the probe says: cloud unreachable. I rebooted it twice. Why?"
    )
    assert out.waiting_for == "confirm"  # the description is the user's text, questions included
    assert "within 2 hours" in text_of(out)
    out = chat.say("back")
    assert out.waiting_for == "description"
    out = chat.say("Since this morning the probe says: cloud unreachable. I rebooted it twice.")
    assert chat.say("yes").waiting_for is None
    out = chat.last
    assert out is not None
    # Filed Monday 23 Nov 2026 15:10 UTC (a minute per message) = 10:10 in New York;
    # type 2 → 2 support hours.
    assert "INC-000001" in text_of(out)
    assert "Monday, November 23, 2026, 12:10\u202fPM (Eastern Standard Time)" in text_of(out)
    assert "answers in English" not in text_of(out)
    assert _incidents(session_factory) == [
        ("INC-000001", "OneTouch AT.com", "Probe cannot reach the cloud", "en")
    ]

    out = chat.say("where is INC-000001")
    assert "Probe cannot reach the cloud" in text_of(out) and "new" in text_of(out)
    listing = chat.say("my incidents")
    assert "INC-000001" in text_of(listing)


def test_filing_in_french_says_support_answers_in_english(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U-demo", lang="fr", tz="Europe/Paris"))
    out = chat.says(
        "signaler un incident",
        "1",
        "Le sondeur ne répond plus",
        "Depuis hier soir, plus aucune mesure.",
    )
    assert out.waiting_for == "confirm" and "sous 24 heures" in text_of(out).replace("\xa0", " ")
    out = chat.say("oui")
    text = text_of(out)
    assert "Votre incident INC-000001 est enregistré" in text
    # Filed at 15:05 UTC; type 3 → 24 support hours: Tuesday 15:05 UTC = 16:05 in Paris.
    assert "mardi 24 novembre 2026, 16:05 (heure normale d’Europe centrale)" in text
    assert "l’équipe du support vous répondra en anglais" in text
    assert _incidents(session_factory)[0][1:] == (
        "LinkSprinter.com",
        "Le sondeur ne répond plus",
        "fr",
    )
    out = chat.say("état de l'incident 1")
    assert "Statut : nouveau" in text_of(out)


def test_status_of_another_accounts_incident_is_not_found(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    Chat(assistant, user("U-demo", lang="en")).says(
        "report an incident", "1", "Broken", "It is broken.", "yes"
    )
    stranger = Chat(assistant, user("U-other", email="other@example.com", lang="en"))
    out = stranger.say("status of INC-000001")
    assert "There is no incident INC-000001 on your account" in text_of(out)
    assert "Broken" not in text_of(out)


def test_status_without_a_number_asks_which(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    chat.says("report an incident", "LinkSprinter.com", "Slow tests", "The tests are slow.", "yes")
    out = chat.say("incident status")
    assert out.waiting_for == "incident_number"
    assert choices_of(out)[0][0] == "INC-000001"
    out = chat.say("INC-000999")
    assert "no incident INC-000999" in text_of(out) and out.waiting_for == "incident_number"
    out = chat.say("1")
    assert out.waiting_for is None and "Slow tests" in text_of(out)


def test_only_free_subscriptions_are_refused_at_once(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    from services import subscriptions
    from storage.models import Subscription

    with session_factory.begin() as session:
        account = accounts.create_account(session, email="free@example.com", name="Free Rider")
        session.add(
            Subscription(account_id=account.id, service="Nuclias Cloud Basic", type=1, tier="free")
        )
    chat = Chat(assistant, user("U-free", email="free@example.com", lang="fr"))
    out = chat.say("signaler un incident")
    assert out.waiting_for is None
    assert "Nuclias Cloud Basic est un abonnement gratuit" in text_of(out)
    assert "forums" in text_of(out)
    with session_factory() as session:
        assert subscriptions.list_subscriptions(
            session, accounts.get_account(session, "free@example.com")
        )


def test_a_confirm_delivered_twice_at_once_files_one_incident(
    assistant: Assistant, session_factory: SessionFactory, settings: Settings
) -> None:
    who = user("U-demo", lang="en")
    Chat(assistant, who).says("report an incident", "1", "Twice", "Double click on yes.")
    # A second process: its own Assistant on the same database.
    other = Assistant(session_factory, settings, assistant.kb)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def confirm(bot: Assistant) -> None:
        barrier.wait()
        results.append(text_of(bot.handle(who, "yes", now=NOW + dt.timedelta(minutes=10))))

    threads = [threading.Thread(target=confirm, args=(bot,)) for bot in (assistant, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(_incidents(session_factory)) == 1
    assert sum("INC-000001" in text for text in results) == 1


def _filed_and_resolved(
    chat: Chat, session_factory: SessionFactory, number: str = "INC-000001"
) -> None:
    chat.says("report an incident", "1", "Flaky", "It is flaky.", "yes")
    with session_factory.begin() as session:
        for status in (incidents.ACKNOWLEDGED, incidents.IN_PROGRESS, incidents.RESOLVED):
            incidents.change_status(session, number, status, actor="staff@example.com")


def test_reopen_a_resolved_incident(assistant: Assistant, session_factory: SessionFactory) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    _filed_and_resolved(chat, session_factory)
    out = chat.say("INC-000001")
    assert ("reopen:INC-000001", "Reopen INC-000001") in choices_of(out)
    out = chat.say("reopen INC-000001")
    assert "I have reopened INC-000001" in text_of(out)
    with session_factory() as session:
        assert incidents.get_incident(session, "INC-000001").status == incidents.IN_PROGRESS


@pytest.mark.parametrize(
    ("lang", "said", "done"),
    [
        ("en", "the problem is back", "I have reopened INC-000001"),
        ("fr", "le probleme est revenu", "J’ai rouvert l’incident INC-000001"),
        ("fr", "ça recommence", "J’ai rouvert l’incident INC-000001"),
    ],
)
def test_the_problem_back_reopens_the_resolved_incident(
    assistant: Assistant, session_factory: SessionFactory, lang: str, said: str, done: str
) -> None:
    chat = Chat(assistant, user("U-demo", lang=lang))
    out = chat.say(said)  # nothing resolved yet: their incidents, or a new report
    assert "flow:file_incident" in [value for value, _ in choices_of(out)]
    _filed_and_resolved(chat, session_factory)
    assert done in text_of(chat.say(said))
    with session_factory() as session:
        found = incidents.get_incident(session, "INC-000001")
        assert found.status == incidents.IN_PROGRESS


def test_reopen_without_a_number_reopens_the_resolved_one(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    assert "no resolved incident to reopen" in text_of(chat.say("reopen my incident"))
    _filed_and_resolved(chat, session_factory)
    out = chat.say("le problème est revenu, je veux rouvrir l'incident")  # in French now
    assert "J’ai rouvert l’incident INC-000001" in text_of(out)
    with session_factory() as session:
        assert incidents.get_incident(session, "INC-000001").status == incidents.IN_PROGRESS


def test_why_an_incident_is_reopened_reaches_the_support_team(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    _filed_and_resolved(chat, session_factory)
    chat.say("please reopen incident 1, the problem is back: the dashboard is blank again")
    with session_factory() as session:
        incident = incidents.get_incident(session, "INC-000001")
        assert incident.status == incidents.IN_PROGRESS
        assert "the dashboard is blank again" in (incident.events[-1].note or "")


def test_a_correction_at_the_description_step_changes_the_subscription(
    assistant: Assistant,
) -> None:
    chat = Chat(assistant, user("U-demo", lang="fr"))
    chat.says("signaler un incident", "LinkSprinter.com", "Les tests échouent")
    out = chat.say("non attends, c est sur OneTouch AT.com")
    assert "OneTouch AT.com" in text_of(out) and out.waiting_for == "description"
    out = chat.say("Depuis la mise à jour, plus aucun test ne passe.")
    assert "OneTouch AT.com" in text_of(out) and "non attends" not in text_of(out)
    assert "2 heures" in text_of(out).replace("\xa0", " ")  # OneTouch's first response


def test_the_summary_corrected_by_its_label_at_the_description_step(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U-demo", lang="fr"))
    chat.says("signaler un incident", "OneTouch AT.com", "Les tests échouent")
    out = chat.say("non attends, le résumé c'est : erreur 503 à la connexion")
    assert "erreur 503 à la connexion" in text_of(out) and out.waiting_for == "description"


def test_a_question_set_apart_at_the_description_step_is_answered(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U-demo", lang="fr"))
    chat.says("signaler un incident", "OneTouch AT.com", "Les tests échouent")
    out = chat.say("au fait, le support parle français ?")
    assert "anglais" in text_of(out) and out.waiting_for == "description"


def test_adding_to_the_description_at_the_confirmation_keeps_it(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U-demo", lang="fr"))
    chat.says("signaler un incident", "OneTouch AT.com", "Les tests échouent")
    chat.say("Depuis la mise à jour, plus aucun test ne passe")
    out = chat.say("non, je veux ajouter à la description que ça arrive aussi sur Firefox")
    assert "plus aucun test ne passe" in text_of(out)
    assert "ça arrive aussi sur Firefox" in text_of(out) and out.waiting_for == "confirm"


def test_a_report_in_one_message_keeps_all_of_the_problem(assistant: Assistant) -> None:
    out = Chat(assistant, user("U-demo", lang="en")).say(
        "On Nuclias Cloud Pro I cannot add a new DAP-2662 access point, I get the error:"
        " device already bound. Please open a ticket."
    )
    said = text_of(out)
    assert "Summary: I cannot add a new DAP-2662 access point" in said
    assert "Please open a ticket" in said  # the whole report is the description
    assert out.waiting_for == "confirm"


def test_a_yes_or_no_is_no_description_of_a_problem(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U-demo", lang="fr"))
    chat.says("signaler un incident", "OneTouch AT.com")
    out = chat.say("oui")
    assert "décrire le problème" in text_of(out) and out.waiting_for == "summary"
    assert chat.say("le test échoue").waiting_for == "description"
    out = chat.say("non")
    assert "décrire le problème" in text_of(out) and out.waiting_for == "description"


@pytest.mark.parametrize(
    ("lang", "lines", "correction", "shown"),
    [
        (
            "en",
            (
                "report an incident",
                "OneTouch AT.com",
                "Cloud login fails",
                "Error 500 since Monday.",
            ),
            "no, the summary should be: portal login error 500",
            "Summary: portal login error 500",
        ),
        (
            "fr",
            ("signaler un incident", "OneTouch AT.com", "la sonde plante", "Depuis lundi."),
            "non, le résumé c'est : la sonde perd le cloud",
            "Résumé : la sonde perd le cloud",
        ),
        (
            "en",
            ("report an incident", "OneTouch AT.com", "Cloud login fails", "Error 500."),
            "no, change the summary to: portal login error 500",
            "Summary: portal login error 500",
        ),
        (
            "fr",
            ("signaler un incident", "OneTouch AT.com", "la sonde plante", "Depuis lundi."),
            "remplace le résumé par la sonde perd le cloud",
            "Résumé : la sonde perd le cloud",
        ),
    ],
)
def test_a_field_named_at_the_confirmation_is_corrected_not_cancelled(
    assistant: Assistant, lang: str, lines: tuple[str, ...], correction: str, shown: str
) -> None:
    chat = Chat(assistant, user("U-demo", lang=lang))
    chat.says(*lines)
    out = chat.say(correction)
    assert shown in text_of(out) and out.waiting_for == "confirm"


def test_reopen_without_a_number_among_several_resolved_asks_which(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    _filed_and_resolved(chat, session_factory)
    _filed_and_resolved(chat, session_factory, "INC-000002")
    out = chat.say("please reopen my ticket, the problem is back")
    assert "Which incident do you want to reopen?" in text_of(out)
    assert [value for value, _ in choices_of(out)] == ["reopen:INC-000002", "reopen:INC-000001"]


def test_a_yes_that_names_a_field_confirms(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    chat.says("report an incident", "OneTouch AT.com", "Cloud login fails", "Error 500.")
    out = chat.say("yes, the summary is right")
    assert "INC-000001" in text_of(out) and out.waiting_for is None
