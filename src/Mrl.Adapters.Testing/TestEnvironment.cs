using Xunit;

namespace Mrl.Adapters.Testing;

/// <summary>Facts about the machine the tests run on.</summary>
public static class TestEnvironment
{
    /// <summary>Whether this is a CI run (<c>CI=true</c>), where a missing server fails tests instead of skipping them.</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether a Docker engine is likely to answer: a socket at the default path, or <c>DOCKER_HOST</c> set.</summary>
    public static bool DockerEngineLikely =>
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_HOST")) || File.Exists("/var/run/docker.sock");

    /// <summary>Skips the test with <paramref name="reason"/>, or fails it in CI when <paramref name="requiredInCi"/> is set.</summary>
    /// <exception cref="InvalidOperationException">In CI, when the server is required.</exception>
    public static void SkipOrFail(string reason, bool requiredInCi)
    {
        if (requiredInCi && IsCi)
        {
            throw new InvalidOperationException("CI=true, and this test needs a server that is not there: " + reason);
        }

        Skip.If(true, reason);
    }
}
