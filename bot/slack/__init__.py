"""What only the Slack app needs: delivery de-duplication, mrkdwn escaping, profiles, the
bridge between Slack surfaces and the conversation engine. Nothing below `bot` imports it."""
