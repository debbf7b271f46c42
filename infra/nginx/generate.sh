#!/usr/bin/env bash
# Regenerates infra/nginx/studyhub.conf, the config of the compose Nginx: one upstream per
# function of routes.yaml at <function>:8000 (the compose service of the same name), listening
# on 80, media proxied to a function (storage is MinIO or FastDFS, not local files).
# Run it after changing routes.yaml; tests/e2e/test_infra_compose.py checks the committed file is current.
set -euo pipefail
cd "$(dirname "$0")/../.."
python="${PYTHON:-python3}"
args=()
for fn in $("$python" -c "from studyhub.core.routing import load_routing; print(' '.join(load_routing().functions))"); do
  args+=(--upstream "$fn=$fn:8000")
done
# MAX_BODY_BYTES, BACKEND_TIMEOUT_SECONDS and CORS_ALLOW_ORIGINS empty: the defaults, the same the
# containers use (CORS: Nginx's own error answers; the functions answer preflights themselves)
MAX_BODY_BYTES= BACKEND_TIMEOUT_SECONDS= CORS_ALLOW_ORIGINS= "$python" -m studyhub nginx-config --listen 80 "${args[@]}" > infra/nginx/studyhub.conf
echo "wrote infra/nginx/studyhub.conf"
