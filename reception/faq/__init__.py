"""The FAQ bot: FAQ files, the fuzzy matcher over them, and the default `bot_answer` plugin."""
