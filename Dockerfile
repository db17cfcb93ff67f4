# syntax=docker/dockerfile:1
# Governor's image: the TypeScript sources run through tsx (no build step), production dependencies
# only, as a numeric non-root user. One image for every process: `agent NAME`, `gateway`,
# `executor`, `mcp NAME --port N`. It must never hold a secret: keys, tokens and connection strings
# are mounted at run time (deploy/helm/governor). The policy bundle is the committed, signed
# policies/bundle.tar.gz, so the image needs no opa; only the policy's public key goes in, never the
# development private key (.dockerignore). test/deploy/ checks this file and rebuilds its file set.
ARG NODE_IMAGE=node:20-bookworm-slim

# Production dependencies, exactly as the lockfile says.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    GOVERNOR_DATA_DIR=/var/lib/governor
WORKDIR /app
# Owned by root and read-only to the process; only the data directory (an emptyDir in a cluster) and
# /tmp (tsx's compile cache) are written.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY agents ./agents
COPY commands ./commands
COPY mcp-servers ./mcp-servers
COPY config ./config
COPY policies ./policies
COPY migrations ./migrations
COPY scenarios ./scenarios
RUN mkdir -p /var/lib/governor && chown 10001:10001 /var/lib/governor
USER 10001:10001
ENTRYPOINT ["node", "bin/governor.mjs"]
CMD ["--help"]
