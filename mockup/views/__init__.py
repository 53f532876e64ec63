"""Blueprints: thin HTML views (auth, projects, characters, generate, history) and system routes."""
