"""The governance catalog."""
