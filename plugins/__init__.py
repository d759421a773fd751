"""Built-in plugins: every built-in capability, written on the same hooks a third party uses."""
