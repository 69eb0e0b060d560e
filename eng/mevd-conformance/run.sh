#!/usr/bin/env bash
# Runs Microsoft's MEVD conformance suite (dotnet/extensions, src/Libraries/Microsoft.Extensions.VectorData.ConformanceTests)
# against Mrl.Adapters.VectorData over the in-memory and pgvector stores, with fixtures that give the suite only what it
# requires. The suite's source is not part of this repository: pass the folder that holds it.
#   eng/mevd-conformance/run.sh /path/to/Microsoft.Extensions.VectorData.ConformanceTests [work-dir] [strict|declared]
# strict (the default) runs every test; declared declares the unsupported features as upstream providers do (Fixtures.cs.template).
# pgvector needs MRL_TEST_POSTGRES (a server with pgvector; the run creates and drops database mrl_conformance).
set -euo pipefail
suite=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${2:-$(mktemp -d)}
mode=${3:-strict}
case $mode in
  strict) constants='' ;;
  declared) constants='DECLARED' ;;
  *) echo "mode must be strict or declared, got '$mode'" >&2; exit 2 ;;
esac
mkdir -p "$work"
# Outside the repository, so that its build settings (analyzers, central versions) do not apply to the suite.
echo '<Project></Project>' > "$work/Directory.Build.props"
echo '<Project></Project>' > "$work/Directory.Build.targets"
for store in InMemory Pgvector; do
  prefix=$([ $store = InMemory ] && echo Mem || echo Pg)
  class=$([ $store = InMemory ] && echo InMemoryTestStore || echo PgvectorTestStore)
  ns=$([ $store = InMemory ] && echo InMemory || echo Pg)
  mkdir -p "$work/$store"
  cp "$here/$class.cs" "$work/$store/"
  sed -e "s/@P@/$prefix/g" -e "s/@S@/$class/g" -e "s/^using VectorData.ConformanceTests;/using VectorData.ConformanceTests;\nusing Conf.$ns;/" \
    "$here/Fixtures.cs.template" > "$work/$store/Fixtures.cs"
  cat > "$work/$store/Conf.$store.csproj" <<PROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
    <IsTestProject>true</IsTestProject>
    <OutputType>Exe</OutputType>
    <NoWarn>\$(NoWarn);MEVD9000;MEVD9001;CS1591;xUnit1045</NoWarn>
    <DefineConstants>\$(DefineConstants);$constants</DefineConstants>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <Compile Include="$suite/**/*.cs" LinkBase="suite" />
  </ItemGroup>
  <ItemGroup>
    <PackageReference Include="xunit.v3.mtp-off" Version="4.0.3" />
    <PackageReference Include="xunit.runner.visualstudio" Version="4.0.1" />
    <PackageReference Include="Microsoft.NET.Test.Sdk" Version="18.11.0" />
    <PackageReference Include="Microsoft.Extensions.Configuration" Version="10.0.0" />
    <PackageReference Include="Microsoft.Extensions.DependencyInjection" Version="10.0.0" />
    <PackageReference Include="Microsoft.Extensions.VectorData.Abstractions" Version="10.11.0" />
  </ItemGroup>
  <ItemGroup>
    <ProjectReference Include="$repo/src/Mrl.Adapters.VectorData/Mrl.Adapters.VectorData.csproj" />
    <ProjectReference Include="$repo/src/Mrl.Adapters.Pgvector/Mrl.Adapters.Pgvector.csproj" />
  </ItemGroup>
</Project>
PROJ
  echo "== $store ($mode)"
  (cd "$work/$store" && dotnet test -c Release --logger "trx;LogFileName=$work/$store-$mode.trx" | tail -1) || true
  python3 "$here/summarize.py" "$work/$store-$mode.trx"
done
