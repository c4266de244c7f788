#!/bin/sh
# The production entry point (the Docker image's ENTRYPOINT). Thin: each mode is one command
# a person can also run by hand. The environment is MELTANO_ENVIRONMENT (prod in the image).
#   full               every source (one failing source stops no other), then cross-source
#   source NAME        one source's job: extract, load, build its models (NAME: meltano job list)
#   transform | dbt    rebuild and test every model (`dbt`: the older entry point's name, kept for its cron lines)
#   data-quality       freshness + every test; report in output/data-quality/; exit 1 if attention
#   schedule           install the crontab from Meltano's schedules and run cron in the foreground
#   dagster            Dagster's UI and schedule daemon on 127.0.0.1:3000 (DAGSTER_HOST, DAGSTER_PORT), instead of cron
set -eu
umask 077  # logs, reports and Meltano's temporary plugin configs (credentials): owner only
cd "$(dirname "$0")/.."
PYTHON="${TRIBUTARY_PYTHON:-.venv/bin/python}"
MELTANO="${TRIBUTARY_MELTANO:-.venv/bin/meltano}"

usage() {
    echo "usage: entrypoint.sh MODE" >&2
    sed -n '4,9p' "$0" | sed 's/^#/ /' >&2
    exit 2
}

mode="${1:-}"
[ $# -gt 0 ] && shift
case "$mode" in
    full)         [ $# -eq 0 ] || usage; exec "$PYTHON" orchestrate/run_all.py ;;
    source)       [ $# -eq 1 ] || usage; exec "$PYTHON" orchestrate/run.py --wait "$1" ;;
    transform|dbt) [ $# -eq 0 ] || usage; exec "$PYTHON" orchestrate/run.py --wait transform ;;
    data-quality) [ $# -eq 0 ] || usage; exec "$PYTHON" orchestrate/run.py --wait data-quality ;;
    schedule)     [ $# -eq 0 ] || usage
                  "$PYTHON" orchestrate/cron.py install
                  exec "${CRON:-cron}" -f ;;
    # orchestrate/dagster.meltano.yml's `dev` command. Dagster's UI has no login: it listens on
    # loopback unless DAGSTER_HOST says otherwise (in a container, 0.0.0.0, behind a proxy that
    # authenticates: README, Security)
    dagster)      [ $# -eq 0 ] || usage
                  exec "$MELTANO" invoke dagster:dev --host "${DAGSTER_HOST:-127.0.0.1}" --port "${DAGSTER_PORT:-3000}" ;;
    *)            usage ;;
esac
