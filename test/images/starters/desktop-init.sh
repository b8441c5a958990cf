#!/bin/sh
# Stand-in for the webtop image's /init in tests: a web page on port 3000 behind Basic auth with
# CUSTOM_USER/PASSWORD, as KasmVNC's web client is, served by busybox httpd.
mkdir -p /config /www
echo '<title>desktop stand-in</title><p>desktop</p>' > /www/index.html
printf '/:%s:%s\n' "${CUSTOM_USER:-abc}" "${PASSWORD:-abc}" > /etc/httpd.conf
exec httpd -f -p 3000 -h /www -c /etc/httpd.conf
