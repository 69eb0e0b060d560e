#!/usr/bin/env bash
# Installs the `mrl` command from this source tree: packs src/Mrl.Cli (the tool package carries
# every library it needs) and installs or upgrades the tool from that folder.
#
#   scripts/install-mrl.sh                     # a global tool: ~/.dotnet/tools/mrl
#   scripts/install-mrl.sh --tool-path DIR     # into DIR instead
#
# Environment: MRL_PACKAGE_DIR, where the package is written (default: artifacts/packages).
# Remove it again with `dotnet tool uninstall -g Mrl.Cli` (or `--tool-path DIR`).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
package_dir=${MRL_PACKAGE_DIR:-$PWD/artifacts/packages}
where=("$@")
((${#where[@]} > 0)) || where=(--global)

version=$(dotnet msbuild src/Mrl.Cli/Mrl.Cli.csproj -getProperty:Version)
dotnet pack src/Mrl.Cli/Mrl.Cli.csproj -c Release -o "$package_dir" --nologo -v quiet

# A private package cache: a package of the same version restored earlier would otherwise be
# installed instead of the one just packed.
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
dotnet tool uninstall Mrl.Cli "${where[@]}" >/dev/null 2>&1 || true
NUGET_PACKAGES=$cache dotnet tool install Mrl.Cli --version "$version" "${where[@]}" --add-source "$package_dir"
