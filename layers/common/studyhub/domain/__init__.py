"""Every rule of every group, by meaning: ``domain/<group>/`` holds its rules, presenters,
request schemas, task names and demo data; routes, jobs and the CLI all call these."""
