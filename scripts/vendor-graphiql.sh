#!/usr/bin/env bash
# Vendor GraphiQL's built browser assets, and the React it runs on, from the npm registry into
# src/timergate/graphiql/, so the page at GET /graphql works without internet. The versions
# are pinned below; to update, change them, run this script, open /graphql and run a query
# (tests/browser/test_graphiql.py does that offline), and note the change in CHANGELOG.md.
# npm checks each tarball against the registry's integrity hash; MANIFEST records the files'
# SHA-256 (tests/graphql/test_graphiql_page.py checks them).
set -euo pipefail
cd "$(dirname "$0")/.."

GRAPHIQL=3.8.3  # the last GraphiQL with a UMD build, loadable without a bundler
REACT=18.2.0

target=src/timergate/graphiql
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null)
for package in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT"; do
  mkdir -p "$work/$package"
  tar -xzf "$work/$package.tgz" -C "$work/$package"
  rm -rf "${target:?}/$package"
  mkdir -p "$target/$package"
  cp "$work/$package/package/LICENSE" "$target/$package/LICENSE"
done
cp "$work/graphiql-$GRAPHIQL/package/graphiql.min.js" "$work/graphiql-$GRAPHIQL/package/graphiql.min.css" \
  "$target/graphiql-$GRAPHIQL/"
cp "$work/react-$REACT/package/umd/react.production.min.js" "$target/react-$REACT/"
cp "$work/react-dom-$REACT/package/umd/react-dom.production.min.js" "$target/react-dom-$REACT/"

(cd "$target" && find "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT" -type f | sort \
  | xargs sha256sum > MANIFEST)
echo "vendored graphiql@$GRAPHIQL, react@$REACT, react-dom@$REACT into $target"
