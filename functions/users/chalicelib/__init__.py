"""The users group's rules: login and captcha, user accounts, areas, shipping addresses."""
