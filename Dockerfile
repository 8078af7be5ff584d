# Ferry, running `ferry start` on the example config (see docker-compose.yml).
# TypeScript runs through tsx, as in development: no build step.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY sql ./sql
COPY example ./example
ENV FERRY_CONFIG=example/ferry.config.ts
# /metrics and /healthz
EXPOSE 9464
# `ferry start` stops on SIGTERM: listener first, then in-flight syncs (up to --shutdown-grace).
STOPSIGNAL SIGTERM
USER node
CMD ["node", "bin/ferry.mjs", "start"]
