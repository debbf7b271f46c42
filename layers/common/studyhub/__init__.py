"""StudyHub's common layer: settings, errors, database, auth, web binder and service clients."""
