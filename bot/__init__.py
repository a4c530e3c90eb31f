"""The helpdesk bot: transports (Slack, terminal console), handlers, flows and the CLI."""
