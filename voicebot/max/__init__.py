"""The MAX messenger channel: the bot client, updates, conversations over the dialogue runtime, outage posts."""
