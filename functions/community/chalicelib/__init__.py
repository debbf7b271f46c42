"""The community group's rules: articles with exact page views, threaded comments."""
