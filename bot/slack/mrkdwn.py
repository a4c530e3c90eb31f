"""User text inside Slack mrkdwn.

Slack gives meaning to exactly three characters: `<` and `>` delimit links, mentions and
`<!channel>`-style broadcasts, `&` starts an entity. Escaping those three (and nothing
else: Slack shows `&quot;` literally) makes any text inert. Every text the bot posts,
the whole of it, goes through `escape` once, where a Block Kit object is built.
"""

from __future__ import annotations


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
