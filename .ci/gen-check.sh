#!/usr/bin/env bash
# Fails when the committed gqlgen output differs from what `go generate`
# produces from schema/ and gqlgen.yml, or when generating leaves go.mod or
# go.sum changed (gqlgen runs go mod tidy after generating).
set -euo pipefail
cd "$(dirname "$0")/.."
go generate ./...
if ! git diff --exit-code -- graph gqlgen.yml go.mod go.sum || [ -n "$(git status --porcelain -- graph)" ]; then
	echo "generated code is stale: run 'go generate ./...' and commit the result" >&2
	git status --porcelain -- graph >&2
	exit 1
fi
