"""Channel-agnostic conversations: the engine, one module per flow, and the look-ups."""

from __future__ import annotations

from bot.flows import activation, add_to_incident, check_incident, incident, registration
from bot.flows.engine import Flow

FLOWS: dict[str, Flow] = {
    flow.name: flow
    for flow in (
        registration.FLOW,
        activation.FLOW,
        incident.FLOW,
        check_incident.FLOW,
        add_to_incident.FLOW,
    )
}
