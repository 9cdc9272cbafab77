# One image for every Isthmus service and the CLI (multi-stage: build with dev
# dependencies, run with production ones only). The compose file and the Helm chart pick
# the program with the container's command, e.g. `node services/discovery/dist/main.js`.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/libs ./libs
COPY --from=build /src/services ./services
COPY --from=build /src/console ./console
COPY --from=build /src/cli ./cli
USER node
ENTRYPOINT ["node"]
CMD ["cli/dist/main.js", "--help"]
