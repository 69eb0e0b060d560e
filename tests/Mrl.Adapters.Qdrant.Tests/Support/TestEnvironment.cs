namespace Mrl.Adapters.Qdrant.Tests.Support;

/// <summary>Facts about where the tests run.</summary>
internal static class TestEnvironment
{
    /// <summary>Whether this is a CI run (<c>CI=true</c>), where a missing prerequisite fails instead of skipping.</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
}
