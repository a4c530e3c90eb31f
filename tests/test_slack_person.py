"""A person asked for in Slack: the same engine, the offer as buttons."""

from __future__ import annotations

from tests.slack.fixtures import CLIENT_FR, CUSTOMER, slack  # noqa: F401
from tests.slack.harness import RunningApp
from tests.slack.ui import Screen


def test_a_paid_customer_asking_for_a_person_can_file_from_the_offer(
    slack: RunningApp,  # noqa: F811
) -> None:
    customer = Screen(slack, CUSTOMER)
    said = customer.say("can I talk to a human please?")
    assert "Our support engineers can help you" in said
    assert "*OneTouch AT.com*: first response within 2 hours" in said
    customer.click("Report an incident", wait=False)  # the incident form opens
    slack.fake.wait_for("views.update")
    form = slack.fake.calls_to("views.update")[-1].args["view"]
    assert form["title"]["text"] == "Report an incident"
    assert "subscription" in [block.get("block_id") for block in form["blocks"]]


def test_someone_without_a_paid_subscription_is_told_in_french(
    slack: RunningApp,  # noqa: F811
) -> None:
    claire = Screen(slack, CLIENT_FR)
    said = claire.say("je veux parler à un conseiller")
    assert "aucun ingénieur du support ne vous est donc attribué" in said
    assert "posez-moi votre question ici" in said
