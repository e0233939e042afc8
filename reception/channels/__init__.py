"""Channels: adapters that bring buyer messages in and carry later messages out."""
