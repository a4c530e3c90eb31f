"""Reading a message once: language, what it asks, question or request, the values it names.

See reading.py for the rules and for how the routing consumes a `Reading`.
"""

from bot.understanding.intents import Encoder
from bot.understanding.reading import Reading, read
from bot.understanding.values import IncidentRef, ModelMention, Values

__all__ = ["Encoder", "IncidentRef", "ModelMention", "Reading", "Values", "read"]
