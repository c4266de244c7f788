# Tributary in production: `make install-prod` (Meltano and the plugins, no sandbox or test tools),
# then orchestrate/entrypoint.sh.
#   docker run --env-file .env -e MELTANO_DATABASE_URI=postgresql+psycopg://… IMAGE full
#   … IMAGE source quickbooks | transform | data-quality | schedule
#   docker run -p 127.0.0.1:3000:3000 -e DAGSTER_HOST=0.0.0.0 … IMAGE dagster
#                                               Dagster's UI and schedule daemon (instead of schedule);
#                                               no login: publish it only behind an authenticating proxy
FROM python:3.11-slim

# make runs the install; cron only for the `schedule` mode.
RUN apt-get update \
    && apt-get install -y --no-install-recommends make cron \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /project
# What `make install-prod` and the pipelines need, and only that: .dockerignore leaves out the
# sandbox, the source template, the taps' tests and every local folder (venvs, state, builds).
# tests/e2e/test_image_context.py rebuilds this context and runs this install (no daemon needed).
COPY Makefile meltano.yml requirements.txt ./
COPY plugins plugins
COPY extract extract
COPY load load
COPY transform transform
COPY orchestrate orchestrate
RUN make install-prod PYTHON=python3

ENV MELTANO_ENVIRONMENT=prod \
    PATH=/project/.venv/bin:$PATH
# Logs, locks and data-quality reports. Keep Meltano's state out of the container: set
# MELTANO_DATABASE_URI to a database in the warehouse (README, "Running it in production").
VOLUME ["/project/output"]
# The `dagster` mode's UI (DAGSTER_PORT changes it).
EXPOSE 3000
ENTRYPOINT ["orchestrate/entrypoint.sh"]
CMD ["full"]
