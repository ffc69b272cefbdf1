# PgBouncer from Debian (the package bench/scaleout.py runs), for docker/compose.yaml's
# `pgbouncer` service. Its settings are docker/pgbouncer.ini, mounted as
# /etc/pgbouncer/city311.ini; the entrypoint adds the database line and the password file
# from POSTGRES_PASSWORD, as the scale-out rehearsal does with its own.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends pgbouncer \
    && rm -rf /var/lib/apt/lists/*
USER postgres
CMD ["bash", "-c", "umask 077 && printf '\"city311\" \"%s\"\\n' \"$POSTGRES_PASSWORD\" > /tmp/userlist.txt && printf '[databases]\\ncity311 = host=127.0.0.1 port=5432 dbname=city311\\n[pgbouncer]\\nauth_file = /tmp/userlist.txt\\n%%include /etc/pgbouncer/city311.ini\\n' > /tmp/pgbouncer.ini && exec pgbouncer /tmp/pgbouncer.ini"]
