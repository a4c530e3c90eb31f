"""Slack without Slack: a fake Web API on loopback and a client that signs requests."""
