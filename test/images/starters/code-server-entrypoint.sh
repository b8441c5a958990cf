#!/bin/sh
# As the real image's /usr/bin/entrypoint.sh: the container's command becomes code-server's arguments.
exec /usr/bin/code-server "$@"
