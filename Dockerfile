# One image, two roles: OVERTURE_ROLE=api or OVERTURE_ROLE=worker (or `all`). It carries no
# embedded PostgreSQL: DATABASE_URL is required.
# Node 24 LTS (supported until April 2028; 22 ends April 2027) on Debian 13 (trixie, the current stable).
FROM node:24-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Production dependencies only: optionalDependencies (embedded PostgreSQL, tsx, pino-pretty) stay out.
FROM node:24-trixie-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund

FROM node:24-trixie-slim
ENV NODE_ENV=production OVERTURE_ROLE=all HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/migrations ./migrations
COPY --from=build /app/src/http/pages ./src/http/pages
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/bin ./bin
USER node
EXPOSE 3000
# The role's own health: /readyz for api and all, a fresh heartbeat for the worker (no HTTP server).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["node", "dist/src/cli.js", "health"]
# Heap sized for the service (live heap ~40 MB): V8's defaults on a large machine let a process
# under load grow past 250 MB RSS; these keep it near 170 MB (bench/RESULTS.md, "Memory").
ENTRYPOINT ["node", "--max-semi-space-size=8", "--max-old-space-size=256", "dist/src/cli.js"]
CMD ["start"]
