"""The knowledge base: bilingual Markdown articles, Whoosh search, language detection.

Public API (the conversation layer codes against this):

    from kb import KnowledgeBase, Answer, ArticleRef, Article, detect_language

Nothing in kb/ imports the bot or Slack.
"""

from kb.answer import Answer
from kb.articles import Article, ArticleRef
from kb.knowledge import KnowledgeBase
from kb.lang import detect_language

__all__ = ["Answer", "Article", "ArticleRef", "KnowledgeBase", "detect_language"]
