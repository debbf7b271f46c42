"""The school group's rules: classes and their members, registering students."""
