# berth's image for machines that can pull base images: built on Debian 12 with the project's own
# install script, run on debian:bookworm-slim with only the shared libraries berth links.
# This machine has no registry: scripts/build-images.sh stages the same binary FROM scratch instead.
FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/apt-install.sh scripts/
RUN scripts/install-deps.sh
COPY . .
RUN cmake --preset release -DBUILD_TESTING=OFF \
 && cmake --build --preset release --target berth

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates libcurl4 libfmt9 libre2-9 libyaml-cpp0.7 libssl3 zlib1g libcrypt1 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/release/src/app/berth /usr/local/bin/berth
EXPOSE 80 8080
# Needs --ping=true among berth's flags, as Traefik's own healthcheck does.
HEALTHCHECK --interval=10s --timeout=3s CMD ["berth", "healthcheck", "--ping=true"]
ENTRYPOINT ["berth"]
