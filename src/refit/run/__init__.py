"""refit.run: campaigns and plan execution."""
