"""Backing services, each created lazily once per process with a ``reset()`` for tests: cache,
storage (files, S3, FastDFS), search (embedded, Elasticsearch), Alipay, SMTP, the job queue."""
