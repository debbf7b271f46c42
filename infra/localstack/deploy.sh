#!/usr/bin/env bash
# Deploy StudyHub to LocalStack (infra/localstack/compose.yaml must be up):
#   1. build the common layer (infra/aws/build_layer.py);
#   2. create the S3 buckets (artifacts, media) and the SQS queue Celery uses;
#   3. migrate MySQL and load reference data from here (through 127.0.0.1:3307);
#   4. package every function and the scheduler (infra/aws/package.py) with the layer *inside*
#      each deployment.zip: LocalStack's community image accepts layers but does not apply them
#      (LAYER_MODE=publish publishes it with `awslocal lambda publish-layer-version` and
#      references it instead, for LocalStack Pro or AWS);
#   5. `awslocal cloudformation package` + `deploy` of each SAM template (one stack per function);
#   6. print each function's URL.
# Jobs: run a Celery worker on this machine against LocalStack's SQS (printed at the end).
# Needs: python3 with the project installed (pip install -e '.[dev]'), awscli-local and awscli
# (pip install awscli-local awscli). Not run on the machines this was written on (no Docker engine).
set -euo pipefail
cd "$(dirname "$0")/../.."

export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
STAGE="${STAGE:-local}"
LAYER_MODE="${LAYER_MODE:-inline}"
BUILD=infra/aws/build
ARTIFACTS=studyhub-deploy
MEDIA=studyhub-media
python="${PYTHON:-python3}"
log() { printf '\n==> %s\n' "$*"; }

command -v awslocal >/dev/null || { echo "error: awslocal not found (pip install awscli-local awscli)" >&2; exit 1; }
awslocal sts get-caller-identity >/dev/null || { echo "error: LocalStack is not answering on :4566 (docker compose -f infra/localstack/compose.yaml up -d)" >&2; exit 1; }

log "building the common layer"
"$python" infra/aws/build_layer.py --out "$BUILD"

log "buckets and the job queue"
awslocal s3 mb "s3://$ARTIFACTS" 2>/dev/null || true
awslocal s3 mb "s3://$MEDIA" 2>/dev/null || true
awslocal sqs create-queue --queue-name celery >/dev/null

log "schema and reference data (MySQL on 127.0.0.1:3307)"
DATABASE_URL='mysql+pymysql://root:studyhub-local@127.0.0.1:3307/studyhub?charset=utf8mb4' "$python" -m studyhub seed

# What the Lambdas see: the services by name on LocalStack's network; S3 and SQS at LocalStack
# (localhost.localstack.cloud resolves to LocalStack inside its network and to 127.0.0.1 here,
# so media URLs work from a browser on this machine too).
env_file="$BUILD/localstack.env"
jwt_secret="$("$python" -c 'import secrets; print(secrets.token_urlsafe(48))')"
umask 077
cat > "$env_file" <<ENV
DATABASE_URL=mysql+pymysql://root:studyhub-local@mysql:3306/studyhub?charset=utf8mb4
REDIS_URL=redis://redis:6379/0
CELERY_BROKER_URL=sqs://test:test@localhost.localstack.cloud:4566
STORAGE_URL=s3://$MEDIA?endpoint=http://localhost.localstack.cloud:4566
JWT_SECRET=$jwt_secret
ENV

layer_args=(--inline-layer "$BUILD/studyhub-layer.zip")
if [ "$LAYER_MODE" = publish ]; then
  log "publishing the layer"
  awslocal s3 cp "$BUILD/studyhub-layer.zip" "s3://$ARTIFACTS/studyhub-layer.zip" >/dev/null
  layer_arn="$(awslocal lambda publish-layer-version --layer-name studyhub-common \
    --compatible-runtimes python3.12 --content "S3Bucket=$ARTIFACTS,S3Key=studyhub-layer.zip" \
    --query LayerVersionArn --output text)"
  layer_args=(--layer-arn "$layer_arn")
fi

log "packaging (chalice package + template edits)"
# A throwaway local stage: its generated secret and the compose database's password go into the
# templates as they are (on AWS, give JWT_SECRET_SSM / DATABASE_URL_SECRET_ID names instead: README).
# --no-snapstart: LocalStack's community image runs $LATEST (no snapshots to restore from).
"$python" infra/aws/package.py --out "$BUILD/sam" --stage "$STAGE" --env-file "$env_file" --allow-plaintext-secrets \
  --no-snapstart "${layer_args[@]}"

projects="$("$python" -c "from local.routes import load_routing; print(' '.join(load_routing().functions))") scheduler"
for name in $projects; do
  log "deploying studyhub-$name"
  awslocal cloudformation package --template-file "$BUILD/sam/$name/sam.json" --s3-bucket "$ARTIFACTS" \
    --output-template-file "$BUILD/sam/$name/packaged.yaml" >/dev/null
  awslocal cloudformation deploy --template-file "$BUILD/sam/$name/packaged.yaml" --stack-name "studyhub-$name" \
    --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset
done

log "endpoints"
for name in $projects; do
  [ "$name" = scheduler ] && continue
  api_id="$(awslocal cloudformation describe-stacks --stack-name "studyhub-$name" \
    --query "Stacks[0].Outputs[?OutputKey=='RestAPIId'].OutputValue" --output text)"
  echo "$name: http://$api_id.execute-api.localhost.localstack.cloud:4566/api/$name/health"
done
cat <<'NEXT'

Jobs (the credentials email, index and cleanup jobs queued on SQS) need a worker, with the
same JWT_SECRET as the functions (it unseals the credentials email):
  set -a; . infra/aws/build/localstack.env; set +a
  CELERY_BROKER_URL=sqs://test:test@localhost:4566 REDIS_URL=redis://127.0.0.1:6380/0 \
  DATABASE_URL='mysql+pymysql://root:studyhub-local@127.0.0.1:3307/studyhub?charset=utf8mb4' studyhub worker
NEXT
