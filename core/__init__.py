"""Charter core: spec language, loader, diagnostics, plugin manager, compiler and CLI."""
