# Ferry's image: `ferry start` by default, any command as arguments
# (`docker run IMAGE migrate`). Mount your config at /app/config/ (see
# docs/deployment.md); DATABASE_URL and TEMPORAL_* come from the environment.

# Build: compile src/ to dist/ and prebuild the workflow bundle.
FROM node:22-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.types.json ./
COPY bin ./bin
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY sql ./sql
RUN node bin/build.mjs --pack

# Runtime: production dependencies, dist/ and sql/; no compiler, no scripts run.
FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /build/dist ./dist
COPY sql ./sql
# A config here may `import { defineConfig } from 'pg-ferry'` (the package refers to itself).
ENV FERRY_CONFIG=/app/config/ferry.config.ts
# /metrics, /livez and /readyz; `--metrics-host 0.0.0.0` (or config metrics.host) to reach them from outside.
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/livez').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `ferry start` stops on SIGTERM: listener first, then in-flight syncs (up to --shutdown-grace).
STOPSIGNAL SIGTERM
USER node
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["start"]
