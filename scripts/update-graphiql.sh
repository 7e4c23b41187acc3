#!/usr/bin/env bash
# Refreshes the GraphiQL playground's embedded assets from the npm registry
# at the pinned versions below, so the playground loads with no request
# leaving the machine. Run it after changing a version, review the diff of
# internal/playground/assets/VERSIONS, and commit the assets.
#
# graphiql 3.x is the last line with a UMD build (4 and later ship ES
# modules for a bundler only), and it needs React 18's UMD builds.
set -euo pipefail

GRAPHIQL=3.8.3
REACT=18.3.1

dest="$(cd "$(dirname "$0")/.." && pwd)/internal/playground/assets"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null
for f in *.tgz; do mkdir "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done

cp "graphiql-$GRAPHIQL/package/graphiql.min.js" "$dest/graphiql.min.js"
cp "graphiql-$GRAPHIQL/package/graphiql.min.css" "$dest/graphiql.min.css"
cp "react-$REACT/package/umd/react.production.min.js" "$dest/react.production.min.js"
cp "react-dom-$REACT/package/umd/react-dom.production.min.js" "$dest/react-dom.production.min.js"
{
	echo "graphiql $GRAPHIQL"
	echo "react $REACT"
	echo "react-dom $REACT"
	(cd "$dest" && sha256sum graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js)
} >"$dest/VERSIONS"
echo "updated $dest" >&2
