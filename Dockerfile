# Knot server image: the API, WebSockets, web UI and agent bundle in one Node process.
# docker-compose.yml builds it; it talks to the host's Docker engine through the mounted socket.

# --- build: every dependency (vite, svelte, esbuild), then the server bundle, the web UI and the agent bundle ---
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Manifests first, so a code change does not redo the install layer.
COPY package.json package-lock.json ./
COPY web/package.json web/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# --- runtime: production dependencies plus the built files (compiled JavaScript, no transpiler) ---
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    PORT=3000 \
    KNOT_DATA_DIR=/data
COPY package.json package-lock.json ./
COPY web/package.json web/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY migrations migrations
COPY --from=build /app/dist/server dist/server
COPY --from=build /app/web/build web/build
COPY --from=build /app/agent/dist agent/dist
# The embedded database (when DATABASE_URL is unset) and the encryption key for protected
# template variables live here; keep it on a volume.
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# Not `npm start`: that checks the build first, and npm as PID 1 would not pass SIGTERM on. Node
# gets the signal itself and shuts down gracefully (sockets closed, requests drained, pool ended).
# Runs as root because the mounted Docker socket is root's; the socket is as powerful as root anyway.
CMD ["node", "dist/server/main.mjs"]
