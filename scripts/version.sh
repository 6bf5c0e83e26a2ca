#!/usr/bin/env bash
# Prints the build variables of the checked-out commit as make assignments
# (the Makefile and the Dockerfile pass them with -ldflags -X; a binary uses
# them only where Go's own build information has nothing, see
# internal/buildinfo):
#
#   VERSION      the tag at HEAD (v0.1.0), else a Go pseudo-version
#                (v0.1.1-0.20261206092000-d0f2fc4abcde, v0.0.0-... before the
#                first tag), with +dirty when the tree has uncommitted changes
#                (as Go 1.24+ spells it)
#   COMMIT       the full commit hash
#   COMMIT_TIME  the commit time, UTC, RFC 3339 (stands for the build time:
#                builds are reproducible)
#   DIRTY        true or false (git status --porcelain, as Go's vcs.modified)
#
# Outside a git checkout it prints nothing and the build carries no version.
set -euo pipefail
cd "$(dirname "$0")/.."
git rev-parse --git-dir >/dev/null 2>&1 || exit 0
commit=$(git rev-parse HEAD)
ctime=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ)
stamp=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S)
dirty=false
[[ -z "$(git status --porcelain)" ]] || dirty=true
if tag=$(git describe --tags --exact-match --match 'v[0-9]*' HEAD 2>/dev/null); then
	version=$tag
elif base=$(git describe --tags --abbrev=0 --match 'v[0-9]*' HEAD 2>/dev/null); then
	if [[ $base == *-* ]]; then
		version="$base.0.$stamp-${commit:0:12}" # after a pre-release tag
	else
		IFS=. read -r maj min pat <<<"${base#v}"
		version="v$maj.$min.$((pat + 1))-0.$stamp-${commit:0:12}"
	fi
else
	version="v0.0.0-$stamp-${commit:0:12}"
fi
[[ $dirty == false ]] || version+="+dirty"
echo "VERSION=$version"
echo "COMMIT=$commit"
echo "COMMIT_TIME=$ctime"
echo "DIRTY=$dirty"
